"""`runbook sandbox`: lifecycle, the seed systems in the cluster, and every fault scenario.

Each scenario test injects a fault into one shared sandbox, waits until real Prometheus shows
its alert firing, cures it the way an operator would (kubectl, never `sandbox clear`), and waits
until the alert is gone. Deadlines are 60 s each; the sandbox compresses alert timing 60x.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from scenario_helpers import (
    CURES,
    alert_states,
    kubectl,
    runbook,
    sandbox_up,
    state_pids,
    wait_until,
)

from sre_runbooks.monitoring.binaries import MissingBinaryError, find_binary
from sre_runbooks.monitoring.servers import pid_alive
from sre_runbooks_sandbox.control import COMPRESSION, compress_rule
from sre_runbooks_sandbox.workloads import SCENARIOS

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

DRILL = Path(__file__).resolve().parents[2] / "playbooks" / "drill_high_error_rate.yml"


def _binaries_missing() -> str:
    try:
        find_binary("prometheus")
        find_binary("alertmanager")
    except MissingBinaryError as error:
        return str(error)
    return ""


if _binaries_missing():
    pytestmark.append(pytest.mark.skip(reason=_binaries_missing()))


def test_up_creates_every_seed_system(sandbox: dict[str, Any]) -> None:
    assert sandbox["running"]
    result = kubectl(sandbox["kubeconfig"], "get", "deploy,sts,ds", "-A", "-o", "name")
    assert result.returncode == 0, result.stderr
    names = set(result.stdout.split())
    for expected in (
        "deployment.apps/nimify-api",
        "deployment.apps/triton-server",
        "deployment.apps/redis",
        "statefulset.apps/postgres",
        "deployment.apps/api-optimizer",
        "deployment.apps/api-optimizer-blue",
        "deployment.apps/api-optimizer-green",
        "deployment.apps/api-gateway",
        "deployment.apps/bolt-app",
        "daemonset.apps/nvidia-device-plugin-daemonset",
    ):
        assert expected in names
    pvc = kubectl(sandbox["kubeconfig"], "get", "pvc", "postgres-storage", "-n", "database")
    assert pvc.returncode == 0, pvc.stderr


def test_status_json_names_everything_a_playbook_needs(sandbox: dict[str, Any]) -> None:
    result = runbook("sandbox", "status", "--json", "--state-dir", str(sandbox["state_dir_path"]))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    for key in ("kubeconfig", "prometheus_url", "alertmanager_url", "inventory", "running"):
        assert key in status
    assert status["running"] is True
    assert all(
        url.startswith("http://127.0.0.1:")
        for url in (status["prometheus_url"], status["alertmanager_url"])
    )
    vars_text = Path(status["inventory_vars"][0]).read_text()
    assert f'sre_runbooks_kubeconfig: "{status["kubeconfig"]}"' in vars_text


def test_up_twice_is_idempotent_and_down_stops_all(tmp_path: Path) -> None:
    state_dir = tmp_path / "state"
    try:
        _up_twice_then_down(state_dir)
    finally:
        runbook("sandbox", "down", "--state-dir", str(state_dir))


def _up_twice_then_down(state_dir: Path) -> None:
    first = sandbox_up(state_dir)
    pids = state_pids(state_dir)
    second = sandbox_up(state_dir)
    assert state_pids(state_dir) == pids
    assert second["prometheus_url"] == first["prometheus_url"]
    result = runbook("sandbox", "down", "--state-dir", str(state_dir))
    assert result.returncode == 0, result.stderr
    for pid in pids.values():
        assert not pid_alive(pid), pid
    status = runbook("sandbox", "status", "--state-dir", str(state_dir))
    assert status.returncode == 1


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_fault_fires_and_operator_cure_clears_it(sandbox: dict[str, Any], key: str) -> None:
    state_dir = str(sandbox["state_dir_path"])
    alert, system = key.split("/")
    prometheus = sandbox["prometheus_url"]
    try:
        injected = runbook("sandbox", "inject", alert, "--system", system, "--state-dir", state_dir)
        assert injected.returncode == 0, injected.stderr
        assert wait_until(lambda: "firing" in alert_states(prometheus, alert, system)), (
            f"{key} did not fire within 60 s"
        )
        for argv in CURES[key]:
            result = kubectl(sandbox["kubeconfig"], *argv)
            assert result.returncode == 0, f"{argv}: {result.stderr}"
        assert wait_until(lambda: not alert_states(prometheus, alert, system)), (
            f"{key} was still active 60 s after the cure"
        )
    finally:
        runbook("sandbox", "clear", "--state-dir", state_dir)


def test_every_scenario_has_a_cure() -> None:
    assert set(CURES) == set(SCENARIOS)


def test_rules_are_compressed_sixty_times() -> None:
    rule = {"alert": "X", "expr": "rate(a[5m]) / rate(b[15m]) + rate(c[1m])", "for": "2m"}
    assert compress_rule(rule) == {
        "alert": "X",
        "expr": "rate(a[5s]) / rate(b[15s]) + rate(c[4s])",
        "for": "2s",
    }
    assert COMPRESSION == 60


def test_diagnostic_commands_answer_like_the_containers(sandbox: dict[str, Any]) -> None:
    config = sandbox["kubeconfig"]
    df = kubectl(config, "exec", "deploy/nimify-api", "-n", "nimify-system", "--", "df", "-h")
    assert df.returncode == 0, df.stderr
    assert "/data" in df.stdout
    missing = kubectl(config, "exec", "deploy/redis", "-n", "nimify-system", "--", "nope")
    assert missing.returncode == 127
    assert "command not found" in missing.stderr
    logs = kubectl(config, "logs", "deploy/triton-server", "-n", "triton-system")
    assert "inference time" in logs.stdout
    redis = kubectl(
        config, "exec", "deploy/redis", "-n", "nimify-system", "--", "redis-cli", "info", "stats"
    )
    assert "keyspace_hits:" in redis.stdout


def test_drill_playbook_remediates_high_error_rate_with_the_collection_modules(
    sandbox: dict[str, Any], ansible_cli: Any
) -> None:
    state_dir = str(sandbox["state_dir_path"])
    assert runbook("sandbox", "inject", "HighErrorRate", "--state-dir", state_dir).returncode == 0
    playbook = str(DRILL)

    def history() -> str:
        return kubectl(
            sandbox["kubeconfig"], "-n", "nimify-system", "rollout", "history", "deploy/nimify-api"
        ).stdout

    injected = history()
    checked = ansible_cli("ansible-playbook", "--check", "-i", sandbox["inventory"], playbook)
    assert checked.returncode == 0, checked.stdout[-4000:] + checked.stderr
    assert "check mode: nothing changed" in checked.stdout
    assert history() == injected
    assert alert_states(sandbox["prometheus_url"], "HighErrorRate", "nimify") == {"firing"}

    completed = ansible_cli("ansible-playbook", "-i", sandbox["inventory"], playbook)
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr
    verified = [line for line in completed.stdout.splitlines() if "verified:" in line]
    assert len(verified) == 1, completed.stdout
    assert float(verified[0].rsplit("now ", 1)[1].rstrip('",')) == 0.0, verified
    assert alert_states(sandbox["prometheus_url"], "HighErrorRate", "nimify") == set()

    # The undo re-uses the old ReplicaSet as the next revision, as a real cluster does.
    def newest_revision(text: str) -> int:
        return int(text.strip().splitlines()[-1].split()[0])

    assert newest_revision(history()) == newest_revision(injected) + 1


def test_drill_playbook_refuses_an_inventory_that_is_not_the_sandbox(ansible_cli: Any) -> None:
    completed = ansible_cli(
        "ansible-playbook", "-i", "localhost,", "-c", "local", str(DRILL), "-e", "x=1"
    )
    assert completed.returncode != 0
    assert "runs only against the sandbox" in completed.stdout
    assert "Wait until Prometheus fires" not in completed.stdout
