"""Node maintenance: cordon, drain (evictions) and uncordon, with pods rescheduled elsewhere.

Only against the simulator: draining a node of a real cluster would disturb its other users.
"""

from __future__ import annotations

import os

import pytest
from sandbox_helpers import kubectl, kubectl_json, rolled_out_deployment, wait_for

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.skipif(
        bool(os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG")),
        reason="drains a node; only run against the simulator",
    ),
]


def _pods(kubeconfig: str, namespace: str) -> list[dict]:
    items = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=spread")["items"]
    return [p for p in items if not p["metadata"].get("deletionTimestamp")]


def test_drain_moves_pods_off_a_cordoned_node(kubeconfig: str, namespace: str) -> None:
    nodes = [n["metadata"]["name"] for n in kubectl_json(kubeconfig, "get", "nodes")["items"]]
    target = nodes[0]
    rolled_out_deployment(kubeconfig, namespace, "spread", replicas=4)
    assert target in {p["spec"]["nodeName"] for p in _pods(kubeconfig, namespace)}
    try:
        drained = kubectl(
            kubeconfig,
            "drain",
            target,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            "--pod-selector=app=spread",
            "--timeout=60s",
        )
        assert f"node/{target} drained" in drained.stdout
        node = kubectl_json(kubeconfig, "get", "node", target)
        assert node["spec"]["unschedulable"] is True

        def moved() -> bool:
            pods = _pods(kubeconfig, namespace)
            return len(pods) == 4 and all(
                p["spec"]["nodeName"] != target and p["status"].get("phase") == "Running"
                for p in pods
            )

        wait_for(moved, "pods rescheduled away from the drained node")
        events = kubectl_json(
            kubeconfig, "-n", namespace, "get", "events", "--field-selector", "reason=Killing"
        )["items"]
        assert events
    finally:
        kubectl(kubeconfig, "uncordon", target)
    assert "unschedulable" not in kubectl_json(kubeconfig, "get", "node", target)["spec"]


def test_pod_that_fits_no_node_stays_pending_with_a_warning(
    kubeconfig: str, namespace: str
) -> None:
    pod = (
        '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nowhere"},'
        '"spec":{"nodeSelector":{"disk":"none"},"containers":[{"name":"c","image":"busybox"}]}}'
    )
    kubectl(kubeconfig, "-n", namespace, "create", "-f", "-", stdin=pod)

    def warned() -> list[dict]:
        return kubectl_json(
            kubeconfig,
            "-n",
            namespace,
            "get",
            "events",
            "--field-selector",
            "involvedObject.name=nowhere,reason=FailedScheduling",
        )["items"]

    (event,) = wait_for(warned, "a FailedScheduling event")
    assert event["type"] == "Warning"
    assert "didn't match Pod's node affinity/selector" in event["message"]
    assert (
        kubectl_json(kubeconfig, "-n", namespace, "get", "pod", "nowhere")["status"]["phase"]
        == "Pending"
    )
