"""k8s_workload_diagnose, k8s_container_patch and k8s_service_request on the cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import (
    kubectl,
    kubectl_json,
    pod_logs_unavailable,
    rolled_out_deployment,
    wait_for,
)

pytestmark = pytest.mark.k8s

Module = Callable[..., dict[str, Any]]


@pytest.fixture(scope="module")
def api(kubeconfig: str, namespace: str) -> str:
    """A Deployment 'api' (2 replicas) with a Service in front of it."""
    return rolled_out_deployment(kubeconfig, namespace, "api", replicas=2, port=80)


@pytest.fixture(scope="module")
def fake(request: pytest.FixtureRequest) -> tuple[str, str, Any]:
    """(kubeconfig, namespace, ApiClient) of the simulator whose pods run the test workloads
    (crash loops, /health, logs, metrics); skips where conftest does not provide it."""
    # The fixtures skip on a real cluster (SRE_RUNBOOKS_TEST_KUBECONFIG); the simulator serves
    # logs, metrics and the proxy, so below their absence is a failure, not a skip.
    return (
        request.getfixturevalue("workloads_kubeconfig"),
        request.getfixturevalue("workloads_namespace"),
        request.getfixturevalue("workloads_client"),
    )


def _served(api_client: Any, path: str, resource: str) -> bool:
    """Whether discovery at ``path`` lists ``resource`` (e.g. services/proxy)."""
    response = api_client.call_api("GET", api_client.configuration.host + path, {}, None)
    if response.status != 200:
        return False
    found = json.loads(response.read())
    return any(r.get("name") == resource for r in found.get("resources", []))


def test_diagnose_reports_pods_events_history_and_missing_pieces(
    ansible_module: Module, kubeconfig: str, namespace: str, api: str, api_client: Any
) -> None:
    result = ansible_module(
        "sre.runbooks.k8s_workload_diagnose",
        {
            "kubeconfig": kubeconfig,
            "namespace": namespace,
            "name": api,
            "metrics": True,
            "logs": {"tail_lines": 50, "patterns": ["ERROR", "started"]},
        },
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["summary"]["pods"] == 2
    assert result["summary"]["ready"] == 2
    assert {p["phase"] for p in result["pods"]} == {"Running"}
    assert all(p["node"] for p in result["pods"])
    assert result["workload"]["rollout_done"] is True
    assert result["history"]["current_revision"] == 1
    assert result["history"]["newest_images"] == ["nginx:1.25"]
    assert 0 <= result["history"]["newest_age_seconds"] < 600
    reasons = {e["reason"] for e in result["events"]}
    assert "ScalingReplicaSet" in reasons, result["events"]
    times = [e["time"] for e in result["events"]]
    assert times == sorted(times)
    metrics_served = _served(api_client, "/apis/metrics.k8s.io/v1beta1", "pods")
    assert ("metrics" in result) == metrics_served, result["missing"]
    if not metrics_served:
        assert any(m.startswith("metrics:") for m in result["missing"])
    # pods/log is listed wherever there is an API server, but only a kubelet can answer it.
    unavailable = pod_logs_unavailable(api_client, namespace, result["pods"][0]["name"])
    if unavailable is None:
        assert result["logs"]["counts"]["started"] >= 2, result["logs"]
        return
    assert any(m.startswith("logs:") for m in result["missing"]), result["missing"]
    pytest.skip(
        f"the cluster cannot serve pod logs, so their counts are not checked: {unavailable}"
    )


CRASHING = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "crash"},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "crash"}},
        "template": {
            "metadata": {"labels": {"app": "crash", "sandbox-test/fault": "oom"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "nimify/api:2.1",
                        "resources": {"limits": {"memory": "256Mi"}},
                    }
                ]
            },
        },
    },
}


def test_diagnose_of_a_crash_looping_oom_killed_deployment(
    ansible_module: Module, fake: tuple[str, str, Any]
) -> None:
    kubeconfig, namespace, _ = fake
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", stdin=json.dumps(CRASHING))
    wait_for(
        lambda: all(
            s.get("restartCount")
            for p in kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=crash")[
                "items"
            ]
            for s in p["status"].get("containerStatuses") or [{}]
        ),
        "the crash-looping pods to restart",
    )
    result = ansible_module(
        "sre.runbooks.k8s_workload_diagnose",
        {
            "kubeconfig": kubeconfig,
            "namespace": namespace,
            "name": "crash",
            "metrics": True,
            "logs": {"tail_lines": 20, "patterns": ["line", "ERROR"]},
        },
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    summary = result["summary"]
    assert summary["pods"] == 2
    assert summary["ready"] == 0
    assert summary["restarts"] > 0
    assert summary["waiting_reasons"] == {"CrashLoopBackOff": 2}
    assert len(summary["crash_looping"]) == len(summary["oom_killed"]) == 2
    container = result["pods"][0]["containers"][0]
    assert container["last_state"]["reason"] == "OOMKilled"
    assert container["last_state"]["exit_code"] == 137
    assert container["limits"] == {"memory": "256Mi"}
    pod = result["pods"][0]["name"]
    assert set(result["metrics"][pod]) == {"app"}, result["metrics"]
    assert result["logs"]["counts"] == {"line": 10, "ERROR": 0}, result["logs"]
    assert result["missing"] == []


def test_container_patch_is_idempotent_and_check_mode_changes_nothing(
    ansible_module: Module, kubeconfig: str, namespace: str, api: str
) -> None:
    args = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "name": api,
        "container": "nginx",
        "resources": {"limits": {"memory": "2Gi"}, "requests": {"cpu": "500m"}},
        "env": [{"name": "CUDA_VISIBLE_DEVICES", "value": ""}],
        "readiness_probe": {"httpGet": {"path": "/", "port": 80}, "periodSeconds": 5},
        "annotations": {"sre.runbooks/reason": "test"},
    }
    before = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy/api")
    checked = ansible_module("sre.runbooks.k8s_container_patch", args, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["after"]["container"]["resources"]["limits"]["memory"] == "2Gi"
    unchanged = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy/api")
    assert unchanged["spec"] == before["spec"]
    assert unchanged["metadata"]["generation"] == before["metadata"]["generation"]

    applied = ansible_module("sre.runbooks.k8s_container_patch", args)
    assert applied["changed"] is True, applied
    container = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy/api")["spec"]["template"][
        "spec"
    ]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "2Gi"
    # An empty value is an omitempty string: the server stores the variable without `value`.
    assert container["env"] == [{"name": "CUDA_VISIBLE_DEVICES"}]
    assert container["readinessProbe"]["periodSeconds"] == 5

    # The same values written differently are the same: no change.
    same = dict(args, resources={"limits": {"memory": "2048Mi"}, "requests": {"cpu": "0.5"}})
    checked_again = ansible_module("sre.runbooks.k8s_container_patch", same, check=True)
    assert checked_again["changed"] is False, checked_again
    again = ansible_module("sre.runbooks.k8s_container_patch", same)
    assert again["changed"] is False, again
    assert again["patch"] is None


def test_service_request_returns_health_json_through_the_proxy(
    ansible_module: Module, fake: tuple[str, str, Any]
) -> None:
    kubeconfig, namespace, _ = fake
    rolled_out_deployment(kubeconfig, namespace, "health", image="nginx:1.27", port=8000)
    args = {"kubeconfig": kubeconfig, "namespace": namespace, "name": "health", "port": "8000"}
    result = ansible_module("sre.runbooks.k8s_service_request", {**args, "path": "/health"})
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["status"] == 200
    assert result["json"]["status"] == "ok"
    assert result["url"] == f"/api/v1/namespaces/{namespace}/services/health:8000/proxy/health"

    missing = ansible_module("sre.runbooks.k8s_service_request", {**args, "path": "/nothing"})
    assert missing.get("failed"), missing
    assert missing["status"] == 404
    assert missing["msg"].startswith(
        f"Failed to send GET Service {namespace}/health through the API server proxy: 404"
    )
