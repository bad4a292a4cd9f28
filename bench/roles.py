"""Each alert role against seed 001's own kubectl/curl sequence for that alert, on one sandbox.

    .venv/bin/python bench/roles.py [--alerts HighErrorRate,ServiceDown] [--runs 1] [--json]
    .venv/bin/python bench/roles.py --check-forks

For every role with a command sequence in bench/seed/<role>.txt (one command per line, `#`
comments; `$PROMETHEUS_URL` stands for the sandbox's Prometheus): inject the alert's fault, wait
until it fires, time the seed's commands (investigation and the mitigation, run in order, no
shell); clear and inject again, wait, time the role through playbooks/remediate.yml with
approval and without the verification wait (`sre_runbooks_verify=false`), cooldown and budget
off. Both sides run against the same sandbox in the same run.

Also measured in the same run, on the same inventory:

- the floor: `ansible-playbook` with one `ansible.builtin.debug` task (`--floor-runs` at the
  start, one more after each alert; the median of all);
- the do-nothing runs of each alert (`--do-nothing`), each against the floor: `duplicate` (the
  alert again right after the cure, cooldown on: no longer firing, or in cooldown), `cooldown`
  (the fault injected again, the alert firing, cooldown on: held back), `locked` (a Lease of the
  target held by another holder, named and filled as plugins/module_utils/_k8s_guard.py does:
  held back), `not firing` (the fault cleared). Held-back runs fail the play by design; they are
  timed all the same and their outcome is read from report.json.

Every playbook run also counts its forked module processes: the bench's inventory points
`ansible_python_interpreter` at a wrapper that appends a line to a counter file and then execs
the real interpreter. Modules (AnsiballZ) run through that interpreter; action plugins, lookups
and filters run on the controller and do not. A calibration playbook with a known number of
module tasks checks the count before anything is measured (`--check-forks` runs only that).

Prints per alert role seconds, seed seconds, ratio and forks, the median and maximum ratio, the
floor, the do-nothing runs, and PASS/MISS against the goals: median ratio <= 1.5, no alert above
3.0, do-nothing runs at most 0.5 s above the floor. Beside the wall seconds, the CPU seconds of
each run's process tree (the commands, or ansible-playbook with its workers and modules; not the
sandbox's servers), which a busy machine inflates much less. Timing is never asserted: the exit
code is 0 unless the bench itself could not run (`--json`: the table goes to stderr, a JSON
document to stdout).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ALERTS = {
    "ServiceDown": "service_down",
    "HighErrorRate": "high_error_rate",
    "DatabaseDown": "database_down",
    "GPUUnavailable": "gpu_unavailable",
    "HighLatency": "high_latency",
    "HighMemoryUsage": "high_memory_usage",
    "HighDiskUsage": "high_disk_usage",
    "ModelLoadFailure": "model_load_failure",
    "PodRestart": "pod_restart",
    "SlowQueries": "slow_queries",
    "CacheHitRateLow": "cache_hit_rate_low",
}
GOAL_MEDIAN_RATIO = 1.5
GOAL_MAX_RATIO = 3.0
GOAL_ABOVE_FLOOR = 0.5
# The do-nothing runs, in the order they run after an alert's timed cure, and the outcomes that
# show the run did what it is meant to measure.
DO_NOTHING = {
    "duplicate": ("not_firing", "cooldown"),
    "cooldown": ("cooldown",),
    "locked": ("locked",),
    "not firing": ("not_firing",),
}
COOLDOWN_SECONDS = 900  # the roles' default
FOREIGN_HOLDER = "roles-bench-foreign-holder"
SANDBOX_OWNER_ENV = "SRE_RUNBOOKS_SANDBOX_OWNER"

FLOOR_PLAYBOOK = """\
---
- name: Floor
  hosts: all
  gather_facts: false
  tasks:
    - name: One debug task
      ansible.builtin.debug:
        msg: floor
"""
# Six module executions: one command, a loop of three commands, ping, stat. debug, set_fact and
# assert are action plugins that run on the controller: none.
CALIBRATION_FORKS = 6
CALIBRATION_PLAYBOOK = """\
---
- name: Fork counter calibration
  hosts: all
  gather_facts: false
  tasks:
    - name: Controller only
      ansible.builtin.debug:
        msg: calibration
    - name: Controller only too
      ansible.builtin.set_fact:
        _calibration: 1
    - name: Controller only, three
      ansible.builtin.assert:
        that: _calibration | int == 1
        quiet: true
    - name: One module
      ansible.builtin.command: "true"
      changed_when: false
    - name: Three modules
      ansible.builtin.command: "echo {{ item }}"
      loop: [1, 2, 3]
      changed_when: false
    - name: Ping
      ansible.builtin.ping:
    - name: Stat
      ansible.builtin.stat:
        path: /
"""


@dataclass
class Run:
    """One playbook run: wall seconds, forked module processes, outcome (report.json), rc."""

    seconds: float
    forks: int
    outcome: str = ""
    cpu: float = 0.0
    rc: int = 0
    target: dict | None = field(default=None, repr=False)

    def outcome_text(self) -> str:
        return self.outcome + (f" (rc {self.rc})" if self.rc else "")


class ForkCounter:
    """An interpreter wrapper that counts its executions in a file, then execs the real one."""

    def __init__(self, directory: Path, real: str = sys.executable) -> None:
        self.log = directory / "forks.log"
        self.interpreter = directory / "python"
        self.interpreter.write_text(
            "#!/bin/sh\n"
            "# One line per module process, then the real interpreter.\n"
            f'printf "%s\\n" "$$" >> {shlex.quote(str(self.log))}\n'
            f'exec {shlex.quote(real)} "$@"\n'
        )
        self.interpreter.chmod(0o755)
        self.reset()

    def reset(self) -> None:
        self.log.write_text("")

    def count(self) -> int:
        return len(self.log.read_text().splitlines())


def _with_interpreter(group: dict, interpreter: str) -> None:
    for host_vars in (group.get("hosts") or {}).values():
        if isinstance(host_vars, dict):
            host_vars["ansible_python_interpreter"] = interpreter
    for child in (group.get("children") or {}).values():
        if isinstance(child, dict):
            _with_interpreter(child, interpreter)


def bench_inventory(source: Path | None, directory: Path, interpreter: Path) -> Path:
    """A copy of the sandbox's inventory (hosts and group_vars), its hosts on ``interpreter``.

    Without ``source``: one local host named ``sandbox``.
    """
    directory.mkdir(parents=True, exist_ok=True)
    hosts = {"all": {"hosts": {"sandbox": {"ansible_connection": "local"}}}}
    if source is not None:
        hosts = yaml.safe_load((source / "hosts.yml").read_text())
        for sub in ("group_vars", "host_vars"):
            if (source / sub).is_dir():
                shutil.copytree(source / sub, directory / sub, dirs_exist_ok=True)
    for group in hosts.values():
        _with_interpreter(group, str(interpreter))
    (directory / "hosts.yml").write_text(yaml.safe_dump(hosts, sort_keys=False))
    return directory


def environment() -> dict[str, str]:
    """This checkout's ansible.cfg, launcher and sandbox packages, and this venv first on PATH.

    The venv's editable installs point at one checkout; PYTHONPATH puts this one first, so a
    `git worktree` of another commit benches its own launcher and sandbox too.
    """
    paths = [str(ROOT / "src"), str(ROOT / "sandbox" / "src")]
    if os.environ.get("PYTHONPATH"):
        paths.append(os.environ["PYTHONPATH"])
    return dict(
        os.environ,
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        PATH=f"{BIN}:{os.environ['PATH']}",
        PYTHONPATH=os.pathsep.join(paths),
    )


def _runbook(state_dir: Path, *args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [str(BIN / "runbook"), "sandbox", *args, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        check=True,
        env=env or environment(),
    ).stdout
    return json.loads(out) if out.strip().startswith("{") else {}


def _firing(prometheus: str, alert: str) -> bool:
    query = f'ALERTS{{alertname="{alert}", alertstate="firing", system="nimify"}}'
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback)
        return bool(json.load(response)["data"]["result"])


def _wait(prometheus: str, alert: str, firing: bool, timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _firing(prometheus, alert) == firing:
            return True
        time.sleep(1)
    return False


def _clear(state_dir: Path, prometheus: str, alert: str) -> None:
    _runbook(state_dir, "clear")
    if not _wait(prometheus, alert, firing=False):
        raise SystemExit(f"{alert} still fires 120 s after the sandbox was cleared")


def _inject(state_dir: Path, prometheus: str, alert: str) -> None:
    """Clear, wait until the previous cure has cleared, inject, wait until the alert fires."""
    _clear(state_dir, prometheus, alert)
    _runbook(state_dir, "inject", alert, "--system", "nimify")
    if not _wait(prometheus, alert, firing=True):
        raise SystemExit(f"{alert} did not fire within 120 s")


def _reinject(state_dir: Path, prometheus: str, alert: str) -> None:
    """The fault again on top of the cure (no clear, so the target keeps its history)."""
    _runbook(state_dir, "inject", alert, "--system", "nimify")
    if not _wait(prometheus, alert, firing=True, timeout=60):
        _inject(state_dir, prometheus, alert)


def _seed_commands(role: str) -> list[str]:
    lines = (ROOT / "bench" / "seed" / f"{role}.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _children_cpu() -> float:
    """CPU seconds (user + system) of this process's ended and waited-for descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_seed(commands: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of the seed's commands."""
    cpu, start = _children_cpu(), time.monotonic()
    for command in commands:
        argv = [os.path.expandvars(part) if "$" in part else part for part in shlex.split(command)]
        subprocess.run(argv, env=env, capture_output=True, check=False, timeout=120)
    return time.monotonic() - start, _children_cpu() - cpu


def time_playbook(
    playbook: Path, inventory: Path, env: dict[str, str], counter: ForkCounter, *extra: str
) -> tuple[Run, subprocess.CompletedProcess]:
    """The run (wall and CPU seconds of the whole ansible-playbook tree, forks, rc)."""
    argv = [str(BIN / "ansible-playbook"), "-i", str(inventory), str(playbook), *extra]
    counter.reset()
    cpu, start = _children_cpu(), time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    run = Run(elapsed, counter.count(), "?", rc=done.returncode, cpu=_children_cpu() - cpu)
    return run, done


class Roles:
    """Role runs through playbooks/remediate.yml, each with a report directory of its own."""

    def __init__(self, inventory: Path, runs_dir: Path, env: dict, counter: ForkCounter) -> None:
        self.inventory, self.runs_dir, self.env, self.counter = inventory, runs_dir, env, counter
        self.number = 0

    def run(self, alert: str, cooldown: int = 0) -> Run:
        self.number += 1
        report_dir = self.runs_dir / f"{self.number:03d}"
        extra = {
            "sre_runbooks_approve": True,
            "sre_runbooks_verify": False,
            "sre_runbooks_cooldown_seconds": cooldown,
            "sre_runbooks_budget": 0,
            "sre_runbooks_report_dir": str(report_dir),
        }
        run, done = time_playbook(
            ROOT / "playbooks" / "remediate.yml",
            self.inventory,
            self.env,
            self.counter,
            "-e",
            f"alert={alert}",
            "-e",
            json.dumps(extra),
        )
        reports = sorted(report_dir.glob("*/report.json"), key=lambda p: p.stat().st_mtime)
        if reports:
            report = json.loads(reports[-1].read_text())
            run.outcome = str(report.get("outcome", "?"))
            run.target = report.get("target")
        elif done.returncode:
            run.outcome = "no report: " + (done.stdout + done.stderr).strip()[-200:]
        return run


# -- the foreign Lease ---------------------------------------------------------------------------


def _guard_functions():
    """lease_name and lease_spec of plugins/module_utils/_k8s_guard.py, else the same here."""
    collections = str(ROOT / ".collections")
    if collections not in sys.path:
        sys.path.append(collections)
    try:
        from ansible_collections.sre.runbooks.plugins.module_utils._k8s_guard import (  # noqa: PLC0415
            lease_name,
            lease_spec,
        )
    except ImportError:

        def lease_name(kind: str, name: str) -> str:
            base = f"sre-runbooks-{kind.lower()}-{name}"
            if len(base) <= 253:
                return base
            return base[:242] + "-" + hashlib.sha256(base.encode()).hexdigest()[:10]

        def lease_spec(holder: str, duration: int, now: datetime.datetime, previous=None) -> dict:
            stamp = now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return {
                "holderIdentity": holder,
                "leaseDurationSeconds": int(duration),
                "acquireTime": stamp,
                "renewTime": stamp,
                "leaseTransitions": 0,
            }

    return lease_name, lease_spec


def catalog_target(alert: str, system: str = "nimify") -> dict | None:
    """The alert's default target in playbooks/vars/alert_catalog.yml, when it names one."""
    catalog = yaml.safe_load((ROOT / "playbooks" / "vars" / "alert_catalog.yml").read_text())
    for entry in catalog.get("alert_catalog") or []:
        target = entry.get("target") or {}
        named = all(target.get(key) for key in ("kind", "namespace", "name"))
        if entry.get("alert") == alert and entry.get("system") == system and named:
            return {key: target[key] for key in ("kind", "namespace", "name")}
    return None


def _kubectl(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    kubectl = shutil.which("kubectl", path=env.get("PATH")) or "kubectl"
    subprocess.run(
        [kubectl, *args], env=env, input=stdin, capture_output=True, text=True, check=True
    )


def hold_lease(target: dict, env: dict[str, str]) -> str:
    """Makes FOREIGN_HOLDER the holder of ``target``'s Lease; returns the Lease's name."""
    lease_name, lease_spec = _guard_functions()
    name = lease_name(target["kind"], target["name"])
    now = datetime.datetime.now(datetime.UTC)
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {
            "name": name,
            "namespace": target["namespace"],
            "labels": {"app.kubernetes.io/managed-by": "sre.runbooks"},
        },
        "spec": lease_spec(FOREIGN_HOLDER, COOLDOWN_SECONDS, now),
    }
    # A run leaves its released Lease behind: replace it.
    free_lease(target, name, env)
    _kubectl(env, "create", "-f", "-", stdin=json.dumps(lease))
    return name


def free_lease(target: dict, name: str, env: dict[str, str]) -> None:
    _kubectl(env, "delete", "lease", name, "-n", target["namespace"], "--ignore-not-found")


# -- the measurements ----------------------------------------------------------------------------


def check_forks(inventory: Path, work: Path, env: dict, counter: ForkCounter) -> list[str]:
    """Problems of the fork count on the calibration and floor playbooks (none: it counts)."""
    problems = []
    for text, expected in ((CALIBRATION_PLAYBOOK, CALIBRATION_FORKS), (FLOOR_PLAYBOOK, 0)):
        playbook = work / "calibration.yml"
        playbook.write_text(text)
        run, done = time_playbook(playbook, inventory, env, counter)
        forks = run.forks
        if done.returncode:
            problems.append(f"calibration playbook failed: {done.stdout[-500:]}{done.stderr}")
        elif forks != expected:
            problems.append(f"{expected} module processes expected, {forks} counted")
    return problems


def time_floor(playbook: Path, inventory: Path, env: dict, counter: ForkCounter) -> Run:
    run, done = time_playbook(playbook, inventory, env, counter)
    if done.returncode:
        raise SystemExit(f"the floor playbook failed: {done.stdout[-500:]}{done.stderr}")
    run.outcome = "ok"
    return run


def do_nothing_runs(
    alert: str, cure: Run, roles: Roles, *, state_dir: Path, prometheus: str, env: dict
) -> list[tuple[str, Run]]:
    """The do-nothing runs after ``cure``, the alert's last timed run, in DO_NOTHING's order."""
    runs = [("duplicate", roles.run(alert, cooldown=COOLDOWN_SECONDS))]
    _reinject(state_dir, prometheus, alert)
    runs.append(("cooldown", roles.run(alert, cooldown=COOLDOWN_SECONDS)))
    target = cure.target or catalog_target(alert)
    if target:
        if not _firing(prometheus, alert):
            _reinject(state_dir, prometheus, alert)
        lease = hold_lease(target, env)
        try:
            runs.append(("locked", roles.run(alert)))
        finally:
            free_lease(target, lease, env)
    else:
        runs.append(("locked", Run(0.0, 0, "skipped: no target in report.json or the catalog")))
    _clear(state_dir, prometheus, alert)
    runs.append(("not firing", roles.run(alert)))
    return runs


def _goal(name: str, value: float | None, limit: float, detail: str = "") -> dict:
    return {
        "goal": name,
        "limit": limit,
        "value": None if value is None else round(value, 3),
        "detail": detail,
        "pass": value is not None and value <= limit,
    }


def _git_commit() -> str:
    git = shutil.which("git") or "git"
    done = subprocess.run(
        [git, "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() or "?"


def main() -> int:  # noqa: PLR0912, PLR0915  (one linear procedure, printed as it goes)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--alerts", help="comma-separated alert names (default: every one with a seed file)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each side per alert")
    parser.add_argument(
        "--floor-runs",
        type=int,
        default=5,
        help="floor runs before the alerts (one more after each)",
    )
    parser.add_argument(
        "--do-nothing",
        default="all",
        help="alerts whose do-nothing runs are measured: all (default), none, or a comma list",
    )
    parser.add_argument(
        "--json", action="store_true", help="a JSON document on stdout (the table on stderr)"
    )
    parser.add_argument(
        "--check-forks", action="store_true", help="only check the fork count, no sandbox"
    )
    args = parser.parse_args()
    out = sys.stderr if args.json else sys.stdout

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    wanted = (
        [a.strip() for a in args.alerts.split(",") if a.strip()] if args.alerts else list(ALERTS)
    )
    unknown = [a for a in wanted if a not in ALERTS]
    if unknown:
        parser.error(f"unknown alerts {', '.join(unknown)}; known: {', '.join(ALERTS)}")
    alerts = [a for a in wanted if (ROOT / "bench" / "seed" / f"{ALERTS[a]}.txt").exists()]
    if args.do_nothing == "all":
        idle_alerts = set(alerts)
    elif args.do_nothing == "none":
        idle_alerts = set()
    else:
        idle_alerts = {a.strip() for a in args.do_nothing.split(",") if a.strip()}
    env = environment()
    commit = _git_commit()
    load_start = os.getloadavg()

    with tempfile.TemporaryDirectory(prefix="roles-bench-") as tmp:
        work = Path(tmp)
        counter = ForkCounter(work)
        if args.check_forks:
            inventory = bench_inventory(None, work / "inventory", counter.interpreter)
            problems = check_forks(inventory, work, env, counter)
            say(
                "fork count: "
                + (
                    "; ".join(problems)
                    if problems
                    else f"ok ({CALIBRATION_FORKS} "
                    "module processes counted on the calibration playbook, 0 on the floor playbook)"
                )
            )
            return 1 if problems else 0

        state_dir = work / "sandbox"
        state = _runbook(
            state_dir, "up", "--json", env=dict(env, **{SANDBOX_OWNER_ENV: str(os.getpid())})
        )
        prometheus = state["prometheus_url"]
        env.update(KUBECONFIG=state["kubeconfig"], PROMETHEUS_URL=prometheus)
        inventory = bench_inventory(
            state_dir / "inventory", work / "inventory", counter.interpreter
        )
        roles = Roles(inventory, work / "runs", env, counter)
        floor_playbook = work / "floor.yml"
        floor_playbook.write_text(FLOOR_PLAYBOOK)
        floor_runs: list[Run] = []
        results: list[dict] = []
        idle: list[dict] = []

        def floor() -> float:
            return statistics.median(r.seconds for r in floor_runs)

        try:
            problems = check_forks(inventory, work, env, counter)
            if problems:
                raise SystemExit("the fork count is wrong: " + "; ".join(problems))
            say(f"commit {commit}; load average {' '.join(f'{x:.2f}' for x in load_start)}")
            say(
                f"fork count checked: {CALIBRATION_FORKS} module processes counted "
                "on the calibration playbook"
            )
            floor_runs += [
                time_floor(floor_playbook, inventory, env, counter) for _ in range(args.floor_runs)
            ]
            say(
                f"floor (ansible-playbook, one debug task): {floor():.2f} s, "
                f"{floor_runs[0].forks} forks"
            )
            say()
            say(
                f"{'alert':18} {'seed s':>7} {'role s':>7} {'ratio':>6} {'forks':>5}"
                f" {'seed cpu':>8} {'role cpu':>8}  role outcome"
            )
            if idle_alerts:
                say(
                    f"{'  do-nothing run':18} {'':7} {'s':>7} {'floor+':>6} {'forks':>5}"
                    f" {'':8} {'cpu':>8}  outcome"
                )
            for alert in alerts:
                role = ALERTS[alert]
                seed_times: list[float] = []
                seed_cpus: list[float] = []
                role_runs: list[Run] = []
                for _ in range(args.runs):
                    _inject(state_dir, prometheus, alert)
                    seed_s, seed_cpu = time_seed(_seed_commands(role), env)
                    seed_times.append(seed_s)
                    seed_cpus.append(seed_cpu)
                    _inject(state_dir, prometheus, alert)
                    role_runs.append(roles.run(alert))
                seed = statistics.median(seed_times)
                role_s = statistics.median(r.seconds for r in role_runs)
                role_cpu = statistics.median(r.cpu for r in role_runs)
                seed_cpu = statistics.median(seed_cpus)
                forks = sorted({r.forks for r in role_runs})
                last = role_runs[-1]
                results.append(
                    {
                        "alert": alert,
                        "role": role,
                        "seed_seconds": round(seed, 3),
                        "role_seconds": round(role_s, 3),
                        "seed_cpu_seconds": round(seed_cpu, 3),
                        "role_cpu_seconds": round(role_cpu, 3),
                        "ratio": round(role_s / seed, 3),
                        "forks": int(statistics.median(r.forks for r in role_runs)),
                        "outcome": last.outcome,
                        "rc": last.rc,
                        "seed_runs": [round(s, 3) for s in seed_times],
                        "role_runs": [
                            dict(
                                {k: v for k, v in asdict(r).items() if k != "target"},
                                seconds=round(r.seconds, 3),
                                cpu=round(r.cpu, 3),
                            )
                            for r in role_runs
                        ],
                    }
                )
                forks_text = str(forks[0]) if len(forks) == 1 else f"{forks[0]}-{forks[-1]}"
                say(
                    f"{alert:18} {seed:7.2f} {role_s:7.2f} {role_s / seed:6.2f} {forks_text:>5}"
                    f" {seed_cpu:8.2f} {role_cpu:8.2f}  {last.outcome_text()}"
                )
                if alert in idle_alerts:
                    for kind, run in do_nothing_runs(
                        alert, last, roles, state_dir=state_dir, prometheus=prometheus, env=env
                    ):
                        expected = run.outcome in DO_NOTHING[kind]
                        idle.append(
                            {
                                "alert": alert,
                                "run": kind,
                                "seconds": round(run.seconds, 3),
                                "cpu_seconds": round(run.cpu, 3),
                                "forks": run.forks,
                                "outcome": run.outcome,
                                "rc": run.rc,
                                "expected_outcome": expected,
                            }
                        )
                        note = (
                            ""
                            if expected
                            else f"  (not a {kind} run: expected {'/'.join(DO_NOTHING[kind])})"
                        )
                        say(
                            f"  {kind:16} {'':7} {run.seconds:7.2f} {run.seconds - floor():+6.2f}"
                            f" {run.forks:5} {'':8} {run.cpu:8.2f}  {run.outcome_text()}{note}"
                        )
                floor_runs.append(time_floor(floor_playbook, inventory, env, counter))
        finally:
            _runbook(state_dir, "down")

    load_end = os.getloadavg()
    floor_s = floor()
    for row in idle:
        row["above_floor"] = round(row["seconds"] - floor_s, 3)
    ratios = [r["ratio"] for r in results]
    median_ratio = statistics.median(ratios) if ratios else None
    worst = max(results, key=lambda r: r["ratio"]) if results else None
    counted = [r for r in idle if r["expected_outcome"]]
    slowest = max(counted, key=lambda r: r["above_floor"]) if counted else None
    goals = [
        _goal("median ratio role / seed", median_ratio, GOAL_MEDIAN_RATIO),
        _goal(
            "max ratio role / seed",
            worst["ratio"] if worst else None,
            GOAL_MAX_RATIO,
            worst["alert"] if worst else "",
        ),
        _goal(
            "do-nothing runs, seconds above the floor (max)",
            slowest["above_floor"] if slowest else None,
            GOAL_ABOVE_FLOOR,
            f"{slowest['alert']} {slowest['run']}" if slowest else "",
        ),
    ]
    say()
    say(
        f"floor: {floor_s:.2f} s (median of {len(floor_runs)} runs, "
        f"{min(r.seconds for r in floor_runs):.2f}-{max(r.seconds for r in floor_runs):.2f} s), "
        f"{max(r.forks for r in floor_runs)} forks, "
        f"{statistics.median(r.cpu for r in floor_runs):.2f} CPU s"
    )
    if idle:
        say(
            f"do-nothing runs against the floor ({len(counted)} of {len(idle)} "
            "had the expected outcome):"
        )
        for kind in DO_NOTHING:
            rows = [r for r in counted if r["run"] == kind]
            if rows:
                above = [r["above_floor"] for r in rows]
                forks = [r["forks"] for r in rows]
                say(
                    f"  {kind:11} median {statistics.median(r['seconds'] for r in rows):5.2f} s,"
                    f" {statistics.median(above):+5.2f} s above (max {max(above):+5.2f}),"
                    f" forks {min(forks)}-{max(forks)},"
                    f" CPU {statistics.median(r['cpu_seconds'] for r in rows):.2f} s"
                )
    say(f"load average at start {load_start[0]:.2f}, at end {load_end[0]:.2f} (1 min)")
    say("goals:")
    for goal in goals:
        value = "n/a" if goal["value"] is None else f"{goal['value']:.2f}"
        detail = f" ({goal['detail']})" if goal["detail"] else ""
        say(
            f"  {goal['goal']}: {value}{detail}, goal <= {goal['limit']}: "
            + ("PASS" if goal["pass"] else "MISS")
        )
    if args.json:
        document = {
            "commit": commit,
            "load_average": {"start": load_start, "end": load_end},
            "runs": args.runs,
            "floor": {
                "seconds": round(floor_s, 3),
                "runs": [round(r.seconds, 3) for r in floor_runs],
                "forks": max(r.forks for r in floor_runs),
                "cpu_seconds": round(statistics.median(r.cpu for r in floor_runs), 3),
            },
            "alerts": results,
            "median_ratio": None if median_ratio is None else round(median_ratio, 3),
            "max_ratio": worst["ratio"] if worst else None,
            "do_nothing": idle,
            "goals": goals,
        }
        json.dump(document, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
