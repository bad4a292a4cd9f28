"""A sandbox started with SRE_RUNBOOKS_SANDBOX_OWNER=PID stops, every process of it, once PID ends.

This is what stops a molecule scenario's sandbox when molecule itself is killed and its destroy
step never runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scenario_helpers import runbook

from sre_runbooks.monitoring.binaries import MissingBinaryError, find_binary
from sre_runbooks.monitoring.servers import pid_alive
from sre_runbooks_sandbox.control import OWNER_ENV, STATE_FILE

pytestmark = [pytest.mark.k8s, pytest.mark.integration]
DEADLINE = 60.0  # for the watchdog to notice and stop everything on a loaded machine

try:
    find_binary("prometheus"), find_binary("alertmanager")
except MissingBinaryError as missing:
    pytestmark.append(pytest.mark.skip(reason=str(missing)))


def test_the_sandbox_stops_when_its_owner_is_killed(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    owner = subprocess.Popen(["sleep", "600"])
    try:
        started = subprocess.run(
            [sys.executable, "-m", "sre_runbooks", "sandbox", "up", "--state-dir", str(state_dir)],
            env={**os.environ, OWNER_ENV: str(owner.pid)},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert started.returncode == 0, started.stderr
        state = json.loads((state_dir / STATE_FILE).read_text())
        processes = {
            name: (int(entry["pid"]), entry["started"])
            for name, entry in state.items()
            if isinstance(entry, dict) and "pid" in entry
        }
        assert set(processes) == {"watchdog", "simulator", "prometheus", "alertmanager"}
        assert all(pid_alive(pid, started=when) for pid, when in processes.values())

        owner.kill()
        owner.wait()
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline and any(
            pid_alive(pid, started=when) for pid, when in processes.values()
        ):
            time.sleep(0.2)
        assert [n for n, (pid, when) in processes.items() if pid_alive(pid, started=when)] == []
        assert runbook("sandbox", "status", "--state-dir", str(state_dir)).returncode == 1
    finally:
        owner.kill()
        owner.wait()
        runbook("sandbox", "down", "--state-dir", str(state_dir))
