"""How long `runbook sandbox up` takes and how much memory the sandbox's processes hold.

    .venv/bin/python bench/sandbox_start.py [--runs 3]

Each run starts a sandbox in a fresh temporary state directory, waits until the seed systems'
pods are all scraped by Prometheus (the sandbox is then usable for a drill), sums the resident
memory (VmRSS) of the three processes `up` started, and stops them. It prints each run and the
ratios to the goals: start under 10 s, total RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

GOAL_SECONDS = 10.0
GOAL_MB = 300.0
EXPECTED_TARGETS = 17  # every seed pod target plus the four node and cluster exporters


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _targets_up(prometheus_url: str) -> int:
    with urllib.request.urlopen(f"{prometheus_url}/api/v1/targets", timeout=5) as response:  # noqa: S310  (loopback)
        targets = json.load(response)["data"]["activeTargets"]
    return sum(1 for t in targets if t["health"] == "up")


def run_once() -> tuple[float, float, float]:
    """(seconds until `up` returns, seconds until every target is up, total RSS in MB)."""
    with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
        state_dir = Path(tmp) / "state"
        command = [sys.executable, "-m", "sre_runbooks", "sandbox"]
        start = time.monotonic()
        result = subprocess.run(
            [*command, "up", "--json", "--state-dir", str(state_dir)],
            capture_output=True,
            text=True,
            check=True,
        )
        returned = time.monotonic() - start
        status = json.loads(result.stdout)
        try:
            while _targets_up(status["prometheus_url"]) < EXPECTED_TARGETS:
                if time.monotonic() - start > 60:
                    raise SystemExit("targets did not come up within 60 s")
                time.sleep(0.1)
            usable = time.monotonic() - start
            time.sleep(2)  # let every process settle after its first scrapes and rule runs
            rss = sum(_rss_mb(int(p["pid"])) for p in status["processes"].values())
        finally:
            subprocess.run(
                [*command, "down", "--state-dir", str(state_dir)], capture_output=True, check=True
            )
    return returned, usable, rss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [run_once() for _ in range(args.runs)]
    for i, (returned, usable, rss) in enumerate(runs, 1):
        print(
            f"run {i}: up returned {returned:.2f} s, all targets up {usable:.2f} s, "
            f"RSS {rss:.0f} MB"
        )
    worst_start = max(r[1] for r in runs)
    worst_rss = max(r[2] for r in runs)
    print(
        f"worst start {worst_start:.2f} s = {worst_start / GOAL_SECONDS:.2f} x goal "
        f"({GOAL_SECONDS:g} s); "
        f"worst RSS {worst_rss:.0f} MB = {worst_rss / GOAL_MB:.2f} x goal ({GOAL_MB:g} MB)"
    )
    return 0 if worst_start < GOAL_SECONDS and worst_rss < GOAL_MB else 1


if __name__ == "__main__":
    sys.exit(main())
