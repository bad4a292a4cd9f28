"""A run acts only on the cluster its alert came from.

Two sandboxes behind one kubeconfig, as two contexts of an inventory shaped like
inventories/example: `east` is the current context, `west` is where ServiceDown fires. The
remediation for an alert labelled `cluster: west` must cure west and leave east untouched.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scenario_helpers import alert_states, kubectl, runbook, sandbox_up, wait_until

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.integration,
    pytest.mark.skipif(
        "SRE_RUNBOOKS_TEST_KUBECONFIG" in os.environ,
        reason="needs two clusters with the sandbox's faults",
    ),
]

CLUSTERS = ("east", "west")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two running sandboxes, one kubeconfig with a context each (east current), an inventory."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    states: dict[str, dict[str, Any]] = {}
    try:
        for name in CLUSTERS:
            state_dir = tmp_path_factory.mktemp(f"sandbox-{name}")
            states[name] = sandbox_up(state_dir)
            states[name]["state_dir_path"] = state_dir
        base = tmp_path_factory.mktemp("clusters")
        kubeconfig = base / "kubeconfig"
        kubeconfig.write_text(yaml.safe_dump(_merged_kubeconfig(states)), encoding="utf-8")
        kubeconfig.chmod(0o600)
        inventory = base / "inventory"
        (inventory / "host_vars").mkdir(parents=True)
        (inventory / "hosts.yml").write_text(
            yaml.safe_dump(
                {
                    "all": {
                        "hosts": dict.fromkeys(CLUSTERS),
                        "vars": {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                        },
                    }
                }
            ),
            encoding="utf-8",
        )
        for name, state in states.items():
            (inventory / "host_vars" / f"{name}.yml").write_text(
                yaml.safe_dump(
                    {
                        "sre_runbooks_kubeconfig": str(kubeconfig),
                        "sre_runbooks_kube_context": name,
                        "sre_runbooks_prometheus_url": state["prometheus_url"],
                        "sre_runbooks_alertmanager_url": state["alertmanager_url"],
                    }
                ),
                encoding="utf-8",
            )
        yield {"states": states, "kubeconfig": str(kubeconfig), "inventory": str(inventory)}
    finally:
        for state in states.values():
            runbook("sandbox", "down", "--state-dir", str(state["state_dir_path"]))
        signal.signal(signal.SIGTERM, previous)


def _merged_kubeconfig(states: dict[str, dict[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [],
        "users": [],
        "contexts": [],
        "current-context": CLUSTERS[0],
    }
    for name, state in states.items():
        own = yaml.safe_load(Path(state["kubeconfig"]).read_text(encoding="utf-8"))
        merged["clusters"].append({"name": name, "cluster": own["clusters"][0]["cluster"]})
        merged["users"].append({"name": name, "user": own["users"][0]["user"]})
        merged["contexts"].append({"name": name, "context": {"cluster": name, "user": name}})
    return merged


def _deployment(kubeconfig: str, context: str) -> dict[str, Any]:
    done = kubectl(
        kubeconfig, "--context", context, "get", "deploy", "nimify-api", "-n", "nimify-system",
        "-o", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def _our_events(kubeconfig: str, context: str) -> list[dict[str, Any]]:
    done = kubectl(
        kubeconfig, "--context", context, "get", "events.v1.events.k8s.io", "-n", "nimify-system",
        "-o", "json",
    )  # fmt: skip
    items = json.loads(done.stdout)["items"]
    return [e for e in items if e.get("reportingController") == "sre.runbooks"]


def test_an_alert_from_one_cluster_changes_only_that_cluster(
    clusters: dict[str, Any], tmp_path: Path
) -> None:
    kubeconfig = clusters["kubeconfig"]
    west = clusters["states"]["west"]
    injected = runbook(
        "sandbox", "inject", "ServiceDown", "--wait", "--state-dir", str(west["state_dir_path"])
    )
    assert injected.returncode == 0, injected.stderr
    assert _deployment(kubeconfig, "west")["spec"]["replicas"] == 0
    east_before = _deployment(kubeconfig, "east")

    labels = {
        "alertname": "ServiceDown",
        "cluster": "west",
        "namespace": "nimify-system",
        "system": "nimify",
    }
    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "sre",
        "groupKey": "{}:{}",
        "groupLabels": {},
        "commonLabels": labels,
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.west",
        "alerts": [
            {
                "status": "firing",
                "labels": labels,
                "annotations": {},
                "fingerprint": "west-1",
                "startsAt": "2026-12-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }
    done = subprocess.run(
        [
            sys.executable, "-m", "sre_runbooks", "run", "--alert-file", "-", "--yes", "--json",
            "--inventory", clusters["inventory"], "--artifacts-dir", str(tmp_path),
            "-e", "sre_runbooks_verify_interval=2", "-e", "sre_runbooks_chart=false",
        ],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )  # fmt: skip
    results = json.loads(done.stdout)
    assert done.returncode == 0, (results, done.stderr)
    (result,) = results
    assert result["outcome"] == "resolved", result
    assert [report["cluster"] for report in result["reports"]] == ["west"], result

    # West is cured, by sre.runbooks, and its alert cleared.
    assert _deployment(kubeconfig, "west")["spec"]["replicas"] == 3
    assert _our_events(kubeconfig, "west")
    assert wait_until(
        lambda: "firing" not in alert_states(west["prometheus_url"], "ServiceDown", "nimify")
    )
    # East, the current context, is exactly as it was.
    east_after = _deployment(kubeconfig, "east")
    assert east_after["metadata"]["resourceVersion"] == east_before["metadata"]["resourceVersion"]
    assert _our_events(kubeconfig, "east") == []
    leases = kubectl(kubeconfig, "--context", "east", "get", "lease", "-A", "-o", "name")
    assert "sre-runbooks" not in leases.stdout
