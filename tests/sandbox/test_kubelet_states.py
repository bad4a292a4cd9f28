"""The kubelet reports what the workloads say: crash loops, image pull failures, readiness."""

from __future__ import annotations

import json

import pytest
from fake_workloads import FAULT
from sandbox_helpers import kubectl, kubectl_json, restart_count, running_pod, wait_for

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def crashing(workloads_kubeconfig: str, workloads_namespace: str) -> str:
    """Pods `ok` and `oom` (crash-looping, OOMKilled) behind the Service `web`."""
    ns = workloads_namespace
    running_pod(workloads_kubeconfig, ns, "ok", labels={"app": "web"})
    running_pod(workloads_kubeconfig, ns, "oom", labels={"app": "web", FAULT: "oom"})
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"ports": [{"port": 80, "targetPort": 8000}], "selector": {"app": "web"}},
    }
    kubectl(workloads_kubeconfig, "apply", "-f", "-", stdin=json.dumps(service))
    return ns


def test_crash_loop_shows_in_the_pod(workloads_kubeconfig: str, crashing: str) -> None:
    wait_for(lambda: restart_count(workloads_kubeconfig, crashing, "oom") > 0, "a restart")
    pod = kubectl_json(workloads_kubeconfig, "get", "pod", "oom", "-n", crashing)
    status = pod["status"]["containerStatuses"][0]
    assert status["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert "restarting failed container=app pod=oom_" in status["state"]["waiting"]["message"]
    terminated = status["lastState"]["terminated"]
    assert (terminated["reason"], terminated["exitCode"]) == ("OOMKilled", 137)
    assert status["ready"] is False
    assert pod["status"]["phase"] == "Running"
    ready = next(c for c in pod["status"]["conditions"] if c["type"] == "Ready")
    assert (ready["status"], ready["reason"]) == ("False", "ContainersNotReady")
    table = kubectl(workloads_kubeconfig, "get", "pods", "-n", crashing).stdout
    row = next(line.split() for line in table.splitlines() if line.startswith("oom "))
    assert row[1:3] == ["0/1", "CrashLoopBackOff"]


def test_restart_count_grows_and_events_aggregate(workloads_kubeconfig: str, crashing: str) -> None:
    first = restart_count(workloads_kubeconfig, crashing, "oom")
    wait_for(
        lambda: restart_count(workloads_kubeconfig, crashing, "oom") > max(first, 1),
        "another restart",
    )
    events = kubectl_json(
        workloads_kubeconfig,
        "get",
        "events",
        "-n",
        crashing,
        "--field-selector",
        "involvedObject.name=oom,reason=BackOff",
    )["items"]
    assert len(events) == 1
    assert events[0]["count"] >= 2
    assert events[0]["message"].startswith("Back-off restarting failed container app in pod oom_")


def test_endpoints_drop_the_unready_pod(workloads_kubeconfig: str, crashing: str) -> None:
    def addresses() -> list[str] | None:
        endpoints = kubectl_json(workloads_kubeconfig, "get", "endpoints", "web", "-n", crashing)
        names = [
            a["targetRef"]["name"]
            for subset in endpoints.get("subsets") or []
            for a in subset.get("addresses") or []
        ]
        return names or None

    assert wait_for(addresses, "endpoints of web") == ["ok"]


def test_image_pull_failure(workloads_kubeconfig: str, workloads_namespace: str) -> None:
    ns = workloads_namespace
    running_pod(workloads_kubeconfig, ns, "noimage", labels={FAULT: "image"})
    pod = kubectl_json(workloads_kubeconfig, "get", "pod", "noimage", "-n", ns)
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ErrImagePull"
    assert 'failed to pull and unpack image "docker.io/library/nginx:1.27"' in waiting["message"]
    assert pod["status"]["phase"] == "Pending"
    logs = kubectl(workloads_kubeconfig, "logs", "noimage", "-n", ns, check=False)
    assert logs.returncode != 0
    assert 'container "app" in pod "noimage" is waiting to start: image can\'t be pulled' in (
        logs.stderr
    )


def test_status_is_not_rewritten_while_nothing_changes(
    workloads_kubeconfig: str, crashing: str
) -> None:
    before = kubectl_json(workloads_kubeconfig, "get", "pod", "ok", "-n", crashing)
    # Long enough for a few reconcile ticks (one a second): a churning kubelet would show.
    restarts = restart_count(workloads_kubeconfig, crashing, "oom")
    wait_for(
        lambda: restart_count(workloads_kubeconfig, crashing, "oom") >= restarts + 2,
        "two more restarts of the neighbour",
    )
    after = kubectl_json(workloads_kubeconfig, "get", "pod", "ok", "-n", crashing)
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
