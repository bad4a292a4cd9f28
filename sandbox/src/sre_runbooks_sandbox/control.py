"""``runbook sandbox up|down|status|inject|clear|reset``: the sandbox as background processes.

``up`` starts three processes on 127.0.0.1, each in a session of its own, and records their
PIDs in ``STATE_DIR/state.json``:

1. ``python -m sre_runbooks_sandbox.serve``: the simulated API server, the seed systems, their
   metrics and the fault control endpoint (one process);
2. real Alertmanager;
3. real Prometheus, scraping the simulator every second and evaluating the collection's
   alerting rules with time compressed by ``COMPRESSION`` (see ``compress_rules``).

``down`` stops exactly those PIDs (each checked against its command line first, so a reused PID
is never signalled). ``up`` is idempotent: when everything recorded still runs, it returns the
recorded state.

With ``SRE_RUNBOOKS_SANDBOX_OWNER=PID`` in its environment, ``up`` also starts a watchdog (a fourth
process, recorded and stopped like the others) that runs ``down`` as soon as process PID ends: a
test run or molecule scenario that is killed, or times out, leaves nothing running.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from sre_runbooks import collection
from sre_runbooks.monitoring.servers import (
    AlertmanagerServer,
    PrometheusServer,
    pid_alive,
    poll,
    process_start,
    stop_pid,
)

STATE_FILE = "state.json"
# A PID whose end stops the sandbox (see the module's docstring).
OWNER_ENV = "SRE_RUNBOOKS_SANDBOX_OWNER"
WATCH_INTERVAL = 0.5
# Alert timing runs this many times faster than in production: `for: 2m` becomes 2s and a
# `[5m]` window 5s. Windows keep at least 4 samples at the 1 s scrape interval. With these
# numbers a fault fires within about 15 s and a cure resolves within about 15 s.
COMPRESSION = 60
MIN_WINDOW_SECONDS = 4
SCRAPE_INTERVAL = "1s"
INVENTORY_VARS = Path("inventories") / "sandbox" / "group_vars" / "all" / "sandbox.yml"
APP_JOBS = (
    "nimify-api",
    "redis",
    "triton-server",
    "postgres",
    "api-optimizer",
    "api-gateway",
    "bolt-app",
)
INFRA_JOBS = ("kube-state-metrics", "cadvisor", "node-exporter", "nvidia-gpu-exporter")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class SandboxError(RuntimeError):
    """The sandbox did not start, is not running, or refused a request."""


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "sre-runbooks" / "sandbox"


# -- rules with compressed time ------------------------------------------------------------------


def _seconds(text: str) -> int:
    return sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)([smhd])", text))


def _compress_window(match: re.Match[str]) -> str:
    seconds = max(_seconds(match.group(1)) // COMPRESSION, MIN_WINDOW_SECONDS)
    return f"[{seconds}s]"


def compress_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One rule with ``for:`` and range windows divided by ``COMPRESSION``."""
    new = dict(rule)
    if "for" in new:
        new["for"] = f"{max(_seconds(str(new['for'])) // COMPRESSION, 1)}s"
    new["expr"] = re.sub(r"\[((?:\d+[smhd])+)\]", _compress_window, str(new["expr"]))
    return new


def compress_rules(sources: list[Path], target: Path) -> list[Path]:
    """Write a time-compressed copy of each rule file into ``target``; return the copies."""
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
        for group in data.get("groups", []):
            group["rules"] = [compress_rule(r) for r in group.get("rules", [])]
        out = target / source.name
        # JSON is YAML; Prometheus reads it and no YAML emitter quirks get in the way.
        out.write_text(json.dumps(data, indent=2), encoding="utf-8")
        written.append(out)
    return written


def default_rule_files() -> list[Path]:
    return sorted(collection.path("prometheus", "rules").glob("*.yml"))


# -- state -----------------------------------------------------------------------------------


def _load(state_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def _answers(url: str) -> bool:
    """Whether the server behind ``url`` is up: it answers 200, or is too busy to answer yet.

    The caller has checked that the process lives. A refused connection or an error answer means
    the server is not serving; a slow answer on a loaded machine only means it is busy, and
    calling it stopped made `runbook sandbox inject` fail for a sandbox that was running.
    """
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310  (loopback)
            return bool(response.status == 200)
    except TimeoutError:
        return True
    except urllib.error.URLError as error:
        return isinstance(error.reason, TimeoutError)
    except OSError:
        return False


def status(state_dir: Path) -> dict[str, Any]:
    """What runs, with the URLs and paths a client needs."""
    state = _load(state_dir)
    checks = {
        "simulator": lambda e: f"{e['control_url']}/control/status",
        "prometheus": lambda e: f"{e['url']}/-/ready",
        "alertmanager": lambda e: f"{e['url']}/-/ready",
    }
    alive = {}
    for name, probe in checks.items():
        entry = state.get(name)
        alive[name] = bool(
            entry
            and pid_alive(int(entry["pid"]), entry["marker"], entry.get("started"))
            and _answers(probe(entry))
        )
        if entry:
            entry["running"] = alive[name]
    return {
        "running": bool(state) and all(alive.values()),
        "state_dir": str(state_dir),
        "kubeconfig": state.get("kubeconfig"),
        "api_url": state.get("simulator", {}).get("api_url"),
        "control_url": state.get("simulator", {}).get("control_url"),
        "prometheus_url": state.get("prometheus", {}).get("url"),
        "alertmanager_url": state.get("alertmanager", {}).get("url"),
        "inventory": state.get("inventory"),
        "inventory_vars": state.get("inventory_vars", []),
        "compression": COMPRESSION,
        "processes": {k: state[k] for k in checks if k in state},
    }


# -- up / down ---------------------------------------------------------------------------------


def _start_simulator(state_dir: Path) -> tuple[subprocess.Popen[bytes], Path]:
    info = state_dir / "serve.json"
    info.unlink(missing_ok=True)
    log = state_dir / "simulator.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "sre_runbooks_sandbox.serve", "--state-dir", str(state_dir)],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    return process, info


def _wait_simulator(process: subprocess.Popen[bytes], info: Path, log: Path) -> dict[str, Any]:
    if not poll(lambda: info.exists() or process.poll() is not None, 30):
        process.kill()
        raise SandboxError(f"the simulator did not start within 30 s; see {log}")
    if process.poll() is not None:
        tail = log.read_text(errors="replace")[-2000:]
        raise SandboxError(f"the simulator exited with code {process.returncode}:\n{tail}")
    try:
        return dict(json.loads(info.read_text()))
    except ValueError as error:
        raise SandboxError(f"the simulator wrote an unreadable {info}: {error}") from error


def _scrape_configs(control_url: str) -> list[dict[str, Any]]:
    address = control_url.removeprefix("http://")
    configs: list[dict[str, Any]] = [
        {
            "job_name": job,
            "honor_labels": True,
            "http_sd_configs": [{"url": f"{control_url}/sd/{job}", "refresh_interval": "1s"}],
        }
        for job in APP_JOBS
    ]
    configs += [
        {
            "job_name": job,
            "honor_labels": True,
            "metrics_path": f"/metrics/{job}",
            "static_configs": [{"targets": [address]}],
        }
        for job in INFRA_JOBS
    ]
    return configs


def _inventory_text(state_dir: Path, kubeconfig: str, prometheus: str, alertmanager: str) -> str:
    values = {
        "sre_runbooks_kubeconfig": kubeconfig,
        "sre_runbooks_prometheus_url": prometheus,
        "sre_runbooks_alertmanager_url": alertmanager,
        "sre_runbooks_sandbox_state_dir": str(state_dir),
        # The rules' range windows divided by COMPRESSION: what a role's own queries use.
        "sre_runbooks_rate_window": f"{max(300 // COMPRESSION, MIN_WINDOW_SECONDS)}s",
        # The names kubernetes.core reads from the environment, for `environment:` blocks.
        "sre_runbooks_k8s_auth_env": {"K8S_AUTH_KUBECONFIG": kubeconfig},
    }
    lines = ["---", "# Written by `runbook sandbox up` for the running sandbox; do not edit."]
    lines += [f"{key}: {json.dumps(value)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _claimed_by_other(shared: Path, state_dir: Path) -> bool:
    """Whether the collection's inventory vars describe another sandbox that still runs.

    Several sandboxes may run at once (tests use their own state directories); the first one
    keeps the collection's inventory until it stops, so a test run never redirects playbooks
    away from a sandbox someone is using.
    """
    try:
        owner = yaml.safe_load(shared.read_text()).get("sre_runbooks_sandbox_state_dir")
    except (OSError, AttributeError, yaml.YAMLError):
        return False
    return bool(owner) and Path(owner) != state_dir and status(Path(owner))["running"]


def _write_inventory(state_dir: Path, text: str) -> list[str]:
    """Write the vars into the state dir's inventory and, when writable, the collection's."""
    written = []
    local = state_dir / "inventory"
    (local / "group_vars" / "all").mkdir(parents=True, exist_ok=True)
    shutil.copy(collection.path("inventories", "sandbox", "hosts.yml"), local / "hosts.yml")
    (local / INVENTORY_VARS.relative_to("inventories/sandbox")).write_text(text)
    written.append(str(local / "group_vars" / "all" / "sandbox.yml"))
    shared = collection.path(*INVENTORY_VARS.parts)
    if os.access(shared.parents[2], os.W_OK) and not _claimed_by_other(shared, state_dir):
        shared.parent.mkdir(parents=True, exist_ok=True)
        shared.write_text(text)
        written.append(str(shared))
    return written


def _record(state_dir: Path, state: dict[str, Any], name: str, server: Any) -> None:
    """Record a started server at once, so that `down` finds it even if `up` is interrupted."""
    state[name] = {**server.state(), "marker": str(server.workdir)}
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))


def up(state_dir: Path, rule_files: list[Path] | None = None) -> dict[str, Any]:
    """Start the sandbox unless it already runs; return ``status()``."""
    state_dir = state_dir.resolve()
    current = status(state_dir)
    if current["running"]:
        return current
    down(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    rules = compress_rules(rule_files or default_rule_files(), state_dir / "rules")
    state: dict[str, Any] = {"kubeconfig": str(state_dir / "kubeconfig")}
    owner = os.environ.get(OWNER_ENV, "").strip()
    if owner:
        # First, so that even an `up` cut short by its owner's end leaves nothing behind.
        state["watchdog"] = _start_watchdog(state_dir, owner)
    simulator, info_path = _start_simulator(state_dir)
    state["simulator"] = {
        "pid": simulator.pid,
        "marker": str(state_dir),
        "started": process_start(simulator.pid),
    }
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))
    started: list[Any] = []
    try:
        # Alertmanager starts while the simulator creates the cluster objects.
        alertmanager = AlertmanagerServer(state_dir / "alertmanager").start()
        started.append(alertmanager)
        _record(state_dir, state, "alertmanager", alertmanager)
        info = _wait_simulator(simulator, info_path, state_dir / "simulator.log")
        prometheus = PrometheusServer(
            state_dir / "prometheus",
            rule_files=rules,
            scrape_configs=_scrape_configs(info["control_url"]),
            alertmanager_urls=[alertmanager.url],
            scrape_interval=SCRAPE_INTERVAL,
            evaluation_interval=SCRAPE_INTERVAL,
            external_labels={"cluster": "sandbox"},
        ).start()
        started.append(prometheus)
        _record(state_dir, state, "prometheus", prometheus)
    except Exception:
        for server in started:
            server.stop()
        stop_pid(simulator.pid, str(state_dir))
        if "watchdog" in state:
            stop_pid(state["watchdog"]["pid"], str(state_dir), started=state["watchdog"]["started"])
        raise
    simulator.returncode = 0  # it outlives this Popen on purpose; `down` stops it by PID
    state["simulator"].update(info)
    prometheus.detach()
    alertmanager.detach()
    text = _inventory_text(state_dir, state["kubeconfig"], prometheus.url, alertmanager.url)
    state["inventory_vars"] = _write_inventory(state_dir, text)
    state["inventory"] = str(state_dir / "inventory" / "hosts.yml")
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))
    return status(state_dir)


def down(state_dir: Path) -> list[str]:
    """Stop the recorded processes; remove what ``up`` wrote. Return the names stopped."""
    state_dir = state_dir.resolve()
    state = _load(state_dir)
    stopped = [
        name
        for name in ("watchdog", "prometheus", "alertmanager", "simulator")
        if name in state
        and int(state[name]["pid"]) != os.getpid()  # the watchdog runs `down` itself
        and stop_pid(
            int(state[name]["pid"]), state[name]["marker"], started=state[name].get("started")
        )
    ]
    # The collection's copy of the inventory vars, when `up` wrote it (recorded in the state).
    for written in state.get("inventory_vars", []):
        shared = Path(written)
        try:
            if str(state_dir) in shared.read_text():
                shared.unlink()
        except OSError:
            pass
    for name in ("prometheus", "alertmanager", "rules", "inventory"):
        shutil.rmtree(state_dir / name, ignore_errors=True)
    for name in (STATE_FILE, "serve.json", "serve.json.partial", "kubeconfig", "simulator.log"):
        (state_dir / name).unlink(missing_ok=True)
    return stopped


# -- the owner's watchdog ----------------------------------------------------------------------


def _start_watchdog(state_dir: Path, owner: str) -> dict[str, Any]:
    """Start the process that stops the sandbox once ``owner`` (a PID) has ended."""
    owner_started = process_start(int(owner)) if owner.isdigit() else None
    if owner_started is None:
        raise SandboxError(f"{OWNER_ENV}={owner} names no running process")
    starter = os.getpid()
    argv = [sys.executable, "-m", "sre_runbooks_sandbox.control", "watch", str(state_dir)]
    argv += [owner, str(owner_started), str(starter), str(process_start(starter))]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    process.returncode = 0  # it outlives this Popen on purpose; `down` stops it by PID
    return {
        "pid": process.pid,
        "marker": str(state_dir),
        "started": process_start(process.pid),
        "owner": int(owner),
    }


def watch(
    state_dir: Path, owner: int, owner_started: int, starter: int, starter_started: int
) -> None:
    """Wait until ``owner`` ends, then stop the sandbox (``down``).

    ``starter`` is the process running ``up``: while it still starts servers, ``down`` is
    repeated, so none that it records after the owner's end is left running. Once ``up`` is done,
    a state that no longer names this watchdog (``down`` ran, or a new ``up``) ends it.
    """
    while pid_alive(owner, started=owner_started):
        mine = _load(state_dir).get("watchdog", {}).get("pid") == os.getpid()
        if not mine and not pid_alive(starter, started=starter_started):
            return
        time.sleep(WATCH_INTERVAL)
    while pid_alive(starter, started=starter_started):
        down(state_dir)
        time.sleep(WATCH_INTERVAL)
    down(state_dir)


# -- faults ------------------------------------------------------------------------------------


def _control(state_dir: Path, action: str, request: dict[str, Any]) -> dict[str, Any]:
    current = status(state_dir.resolve())
    if not current["running"]:
        raise SandboxError(f"the sandbox is not running (state directory {state_dir})")
    data = json.dumps(request).encode()
    req = urllib.request.Request(  # noqa: S310  (loopback URL from our own state file)
        f"{current['control_url']}/control/{action}",
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as response:  # noqa: S310  (loopback)
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", error.reason)
        raise SandboxError(f"{action} failed: {detail}") from error


def inject(state_dir: Path, alert: str, system: str | None = None) -> dict[str, Any]:
    """Inject the fault of ``alert`` (of ``system``) into the running sandbox."""
    return _control(state_dir, "inject", {"alert": alert, "system": system})


def wait_firing(state_dir: Path, alert: str, system: str, timeout: float = 90.0) -> float:
    """Seconds until Prometheus fires ``alert`` of ``system``; SandboxError after ``timeout``."""
    prometheus = status(state_dir).get("prometheus_url")
    if not prometheus:
        raise SandboxError("the sandbox is not running: start it with `runbook sandbox up`")
    query = urllib.parse.urlencode(
        {"query": f'ALERTS{{alertname="{alert}", alertstate="firing", system="{system}"}}'}
    )
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        with urllib.request.urlopen(f"{prometheus}/api/v1/query?{query}", timeout=5) as answer:  # noqa: S310  (the sandbox's own loopback URL)
            if json.load(answer)["data"]["result"]:
                return time.monotonic() - start
        time.sleep(1)
    raise SandboxError(f"{alert} ({system}) did not fire within {timeout:.0f} s")


def clear(state_dir: Path, alert: str | None = None, system: str | None = None) -> dict[str, Any]:
    """Clear one scenario's fault, or all of them, and restore every seed object."""
    return _control(state_dir, "clear", {"alert": alert, "system": system})


# -- reset -------------------------------------------------------------------------------------

# How long `reset` waits for Prometheus and Alertmanager to show no alert. Samples from before
# the reset are deleted, so no `for:` or range window has to run out: a reset is quiet within a
# scrape and an evaluation interval, and the rest is room for a loaded machine.
RESET_TIMEOUT = 60.0


def _http(url: str, method: str = "GET", body: Any = None, timeout: float = 10.0) -> Any:
    """A JSON request to one of the sandbox's loopback servers; its JSON answer, if any."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310  (loopback URLs from our own state file)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  (loopback)
        payload = response.read()
    return json.loads(payload) if payload.strip() else None


def _unix(stamp: str) -> float:
    """A Prometheus time (RFC 3339 with up to nanoseconds) as a Unix time."""
    # datetime reads at most microseconds on older Pythons: cut the rest of the fraction.
    text = re.sub(r"(\.\d{6})\d+", r"\1", stamp).replace("Z", "+00:00")
    return datetime.fromisoformat(text).timestamp()


def _alert_names(alerts: list[dict[str, Any]]) -> list[str]:
    return sorted(
        f"{a['labels'].get('alertname')} ({a.get('state') or a.get('status', {}).get('state')}, "
        f"{a['labels'].get('system') or a['labels'].get('namespace') or '-'})"
        for a in alerts
    )


def _expire_silences(alertmanager: str) -> int:
    """Expire every silence that is active or pending; return how many."""
    expired = 0
    for silence in _http(f"{alertmanager}/api/v2/silences") or []:
        if silence.get("status", {}).get("state") != "expired":
            _http(f"{alertmanager}/api/v2/silence/{silence['id']}", "DELETE")
            expired += 1
    return expired


def _wait_prometheus_quiet(prometheus: str, swapped_at: float, deadline: float) -> None:
    """Wait until Prometheus shows no alert on samples from after ``swapped_at``.

    Every active target must have been scraped after the reset and be up (so service discovery
    has replaced the targets of pods the new cluster no longer has, whose scrapes fail), and a
    rule evaluation of every group after the last of those scrapes must leave no alert pending
    or firing. SandboxError naming what still fires when ``deadline`` passes.
    """
    scraped_at: float | None = None
    alerts: list[dict[str, Any]] = []
    while True:
        if scraped_at is None:
            targets = _http(f"{prometheus}/api/v1/targets?state=active")["data"]["activeTargets"]
            starts = [_unix(t["lastScrape"]) for t in targets]
            if starts and min(starts) > swapped_at and all(t["health"] == "up" for t in targets):
                # When the last of those scrapes had stored its samples.
                scraped_at = max(_unix(t["lastScrape"]) + t["lastScrapeDuration"] for t in targets)
        if scraped_at is not None:
            groups = _http(f"{prometheus}/api/v1/rules?type=alert")["data"]["groups"]
            evaluated = all(_unix(g["lastEvaluation"]) > scraped_at for g in groups)
            alerts = _http(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
            if evaluated and not alerts:
                return
        if time.monotonic() > deadline:
            what = ", ".join(_alert_names(alerts)) or (
                "no alert, but not every target was scraped, up, and evaluated since the reset"
            )
            raise SandboxError(f"reset: Prometheus is not quiet: {what}")
        time.sleep(0.1)


def _resolve_alertmanager(alertmanager: str, deadline: float) -> int:
    """Resolve what Alertmanager still lists (Prometheus no longer fires it); return how many."""
    resolved = 0
    while True:
        alerts = _http(f"{alertmanager}/api/v2/alerts") or []
        if not alerts:
            return resolved
        if time.monotonic() > deadline:
            names = ", ".join(_alert_names(alerts))
            raise SandboxError(f"reset: Alertmanager still lists {names}")
        now = datetime.now(UTC).isoformat()
        _http(
            f"{alertmanager}/api/v2/alerts",
            "POST",
            [
                {
                    "labels": a["labels"],
                    "annotations": a.get("annotations", {}),
                    "startsAt": a["startsAt"],
                    "endsAt": now,
                    "generatorURL": a.get("generatorURL", ""),
                }
                for a in alerts
            ],
        )
        resolved += len(alerts)
        time.sleep(0.2)


def reset(state_dir: Path, timeout: float = RESET_TIMEOUT) -> dict[str, Any]:
    """Bring the running sandbox back to the state `up` left it in; return what was done.

    1. The simulator replaces its cluster, the simulated systems and their metrics by new ones
       as at start (every object `up` created, nothing else: no Lease, Event, revision or
       annotation a run left; no fault).
    2. Alertmanager's active and pending silences are expired.
    3. Prometheus forgets the samples scraped before the new cluster served, so no `for:` and
       no range window carries the old state into the new one.
    4. It returns once Prometheus has scraped every target afresh, evaluated its rules on that
       and shows no alert pending or firing, and Alertmanager lists no alert (what it still
       lists, Prometheus no longer fires, and it is resolved); SandboxError names what still
       fires after ``timeout`` seconds.
    """
    started = time.monotonic()
    deadline = started + timeout
    state_dir = state_dir.resolve()
    result = _control(state_dir, "reset", {})
    current = status(state_dir)
    prometheus, alertmanager = current["prometheus_url"], current["alertmanager_url"]
    try:
        result["silences_expired"] = _expire_silences(alertmanager)
        query = urllib.parse.urlencode(
            {"match[]": '{__name__=~".+"}', "end": repr(float(result["swapped_at"]))}
        )
        _http(f"{prometheus}/api/v1/admin/tsdb/delete_series?{query}", "POST")
        _wait_prometheus_quiet(prometheus, float(result["swapped_at"]), deadline)
        result["alertmanager_resolved"] = _resolve_alertmanager(alertmanager, deadline)
    except (OSError, ValueError, KeyError) as error:
        raise SandboxError(f"reset: {error!r}") from error
    result["seconds"] = round(time.monotonic() - started, 1)
    return result


__all__ = [
    "COMPRESSION",
    "OWNER_ENV",
    "SandboxError",
    "clear",
    "compress_rules",
    "default_state_dir",
    "down",
    "inject",
    "reset",
    "status",
    "up",
    "wait_firing",
    "watch",
]


if __name__ == "__main__":
    # `python -m sre_runbooks_sandbox.control watch STATE_DIR OWNER STARTED STARTER STARTED`
    if sys.argv[1:2] == ["watch"] and len(sys.argv) == 7:
        watch(Path(sys.argv[2]), *(int(a) for a in sys.argv[3:7]))
    else:
        sys.exit("usage: python -m sre_runbooks_sandbox.control watch STATE_DIR OWNER ...")
