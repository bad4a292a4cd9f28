"""Each alert role against seed 001's own kubectl/curl sequence for that alert, on one sandbox.

    .venv/bin/python bench/roles.py [--alerts HighErrorRate,ServiceDown] [--runs 1]

For every role with a command sequence in bench/seed/<role>.txt (one command per line, `#`
comments; `$PROMETHEUS_URL` stands for the sandbox's Prometheus): inject the alert's fault, wait
until it fires, time the seed's commands (investigation and the mitigation, run in order, no
shell); clear and inject again, wait, time the role through playbooks/remediate.yml with
approval and without the verification wait (`sre_runbooks_verify=false`), cooldown off. Both
sides run against the same sandbox in the same run. Prints seconds and the ratio role / seed
per alert and the median ratio. The goal is a ratio of at most 1.0.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

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


def _runbook(state_dir: Path, *args: str) -> dict:
    out = subprocess.run(
        [str(BIN / "runbook"), "sandbox", *args, "--state-dir", str(state_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out) if out.strip().startswith("{") else {}


def _firing(prometheus: str, alert: str) -> bool:
    query = f'ALERTS{{alertname="{alert}", alertstate="firing", system="nimify"}}'
    url = f"{prometheus}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310  (loopback)
        return bool(json.load(response)["data"]["result"])


def _inject(state_dir: Path, prometheus: str, alert: str) -> None:
    _runbook(state_dir, "clear")
    for _ in range(120):  # the previous cure must have cleared before the next injection
        if not _firing(prometheus, alert):
            break
        time.sleep(1)
    _runbook(state_dir, "inject", alert, "--system", "nimify")
    for _ in range(120):
        if _firing(prometheus, alert):
            return
        time.sleep(1)
    raise SystemExit(f"{alert} did not fire within 120 s")


def _seed_commands(role: str) -> list[str]:
    lines = (ROOT / "bench" / "seed" / f"{role}.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def time_seed(commands: list[str], env: dict[str, str]) -> float:
    start = time.monotonic()
    for command in commands:
        argv = [os.path.expandvars(part) if "$" in part else part for part in shlex.split(command)]
        subprocess.run(argv, env=env, capture_output=True, check=False, timeout=120)
    return time.monotonic() - start


def time_role(
    alert: str, inventory: Path, report_dir: Path, env: dict[str, str]
) -> tuple[float, str]:
    argv = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(inventory),
        str(ROOT / "playbooks" / "remediate.yml"),
        "-e",
        f"alert={alert}",
        "-e",
        json.dumps(
            {
                "sre_runbooks_approve": True,
                "sre_runbooks_verify": False,
                "sre_runbooks_cooldown_seconds": 0,
                "sre_runbooks_budget": 0,
                "sre_runbooks_report_dir": str(report_dir),
            }
        ),
    ]
    start = time.monotonic()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - start
    outcome = "?"
    for report in sorted(report_dir.glob("*/report.json"), key=lambda p: p.stat().st_mtime):
        outcome = json.loads(report.read_text())["outcome"]
    if done.returncode not in (0, 2):
        outcome += f" (rc {done.returncode})"
    return elapsed, outcome


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--alerts", help="comma-separated alert names (default: every one with a seed file)"
    )
    parser.add_argument("--runs", type=int, default=1, help="runs of each side per alert")
    args = parser.parse_args()
    wanted = args.alerts.split(",") if args.alerts else list(ALERTS)
    alerts = [a for a in wanted if (ROOT / "bench" / "seed" / f"{ALERTS[a]}.txt").exists()]
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PATH=f"{BIN}:{os.environ['PATH']}"
    )
    with tempfile.TemporaryDirectory(prefix="roles-bench-") as tmp:
        state_dir = Path(tmp) / "sandbox"
        state = _runbook(state_dir, "up", "--json")
        prometheus = state["prometheus_url"]
        env.update(KUBECONFIG=state["kubeconfig"], PROMETHEUS_URL=prometheus)
        inventory = state_dir / "inventory"
        ratios = []
        print(f"{'alert':18} {'seed s':>8} {'role s':>8} {'ratio':>6}  role outcome")
        try:
            for alert in alerts:
                role = ALERTS[alert]
                seed_times, role_times, outcome = [], [], ""
                for _ in range(args.runs):
                    _inject(state_dir, prometheus, alert)
                    seed_times.append(time_seed(_seed_commands(role), env))
                    _inject(state_dir, prometheus, alert)
                    elapsed, outcome = time_role(alert, inventory, Path(tmp) / "runs", env)
                    role_times.append(elapsed)
                seed, role_s = statistics.median(seed_times), statistics.median(role_times)
                ratios.append(role_s / seed)
                print(
                    f"{alert:18} {seed:8.2f} {role_s:8.2f} {role_s / seed:6.2f}  {outcome}",
                    flush=True,
                )
        finally:
            _runbook(state_dir, "down")
        if ratios:
            print(f"median ratio role / seed: {statistics.median(ratios):.2f} (goal <= 1.0)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
