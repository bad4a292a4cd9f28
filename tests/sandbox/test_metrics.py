"""metrics.k8s.io: discovery, PodMetrics and NodeMetrics, and kubectl top."""

from __future__ import annotations

import json
import urllib.request

import pytest
from fake_workloads import CPU_CORES, MEMORY_BYTES
from sandbox_helpers import kubectl, running_pod, server_url, wait_for

pytestmark = pytest.mark.k8s
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _get(kubeconfig: str, path: str, accept: str = "application/json") -> dict:
    request = urllib.request.Request(server_url(kubeconfig) + path, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def measured(workloads_kubeconfig: str, workloads_namespace: str) -> str:
    """Two running pods, `m-one` with one container and `m-two` with two."""
    running_pod(workloads_kubeconfig, workloads_namespace, "m-one")
    running_pod(workloads_kubeconfig, workloads_namespace, "m-two", containers=("app", "proxy"))
    return workloads_namespace


def test_discovery_lists_metrics_group(workloads_kubeconfig: str) -> None:
    groups = _get(workloads_kubeconfig, "/apis")["groups"]
    metrics = next(g for g in groups if g["name"] == "metrics.k8s.io")
    assert metrics["preferredVersion"]["version"] == "v1beta1"
    resources = _get(workloads_kubeconfig, "/apis/metrics.k8s.io/v1beta1")["resources"]
    assert {(r["name"], r["kind"], r["namespaced"]) for r in resources} == {
        ("nodes", "NodeMetrics", False),
        ("pods", "PodMetrics", True),
    }
    aggregated = _get(workloads_kubeconfig, "/apis", AGGREGATED)
    assert "metrics.k8s.io" in {g["metadata"]["name"] for g in aggregated["items"]}


def test_pod_metrics_from_the_workloads(workloads_kubeconfig: str, measured: str) -> None:
    listing = _get(workloads_kubeconfig, f"/apis/metrics.k8s.io/v1beta1/namespaces/{measured}/pods")
    assert listing["kind"] == "PodMetricsList"
    by_name = {item["metadata"]["name"]: item for item in listing["items"]}
    assert set(by_name) == {"m-one", "m-two"}
    usage = by_name["m-one"]["containers"][0]["usage"]
    assert usage == {"cpu": f"{round(CPU_CORES * 1e9)}n", "memory": f"{MEMORY_BYTES // 1024}Ki"}
    assert by_name["m-one"]["window"] == "15s"
    one = _get(
        workloads_kubeconfig, f"/apis/metrics.k8s.io/v1beta1/namespaces/{measured}/pods/m-two"
    )
    assert [c["name"] for c in one["containers"]] == ["app", "proxy"]
    everywhere = _get(workloads_kubeconfig, "/apis/metrics.k8s.io/v1beta1/pods")
    assert {"m-one", "m-two"} <= {item["metadata"]["name"] for item in everywhere["items"]}


def test_kubectl_top_pods(workloads_kubeconfig: str, measured: str) -> None:
    out = kubectl(workloads_kubeconfig, "top", "pods", "-n", measured).stdout.splitlines()
    assert out[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert ["m-one", "12m", "64Mi"] in [line.split() for line in out]
    per_container = kubectl(workloads_kubeconfig, "top", "pods", "--containers", "-n", measured)
    rows = [line.split() for line in per_container.stdout.splitlines()]
    assert ["m-two", "proxy", "12m", "64Mi"] in rows


def test_kubectl_top_nodes(workloads_kubeconfig: str, measured: str) -> None:
    out = wait_for(
        lambda: kubectl(workloads_kubeconfig, "top", "nodes", check=False).stdout,
        "kubectl top nodes",
    )
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["NAME", "CPU(cores)", "CPU(%)"]
    assert {line.split()[0] for line in lines[1:]} == {"node-a", "node-b"}
