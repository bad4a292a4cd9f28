"""Discovery: what kubectl and client libraries learn about the served kinds."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import kubectl, raw_request

pytestmark = pytest.mark.k8s

AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def _get(kubeconfig: str, path: str, accept: str = "application/json") -> tuple[str, dict]:
    status, headers, body = raw_request(kubeconfig, "GET", path, headers={"Accept": accept})
    assert status == 200, (path, status, body[:300])
    return headers["Content-Type"], json.loads(body)


def test_version_reports_a_kubernetes_release(kubeconfig: str) -> None:
    _, version = _get(kubeconfig, "/version")
    assert version["major"] == "1"
    assert version["gitVersion"].startswith("v1.")


def test_plain_and_aggregated_discovery_list_the_served_kinds(kubeconfig: str) -> None:
    _, core = _get(kubeconfig, "/api/v1")
    names = {r["name"] for r in core["resources"]}
    assert {"pods", "pods/status", "services", "configmaps", "secrets", "events"} <= names
    _, apps = _get(kubeconfig, "/apis/apps/v1")
    assert {"deployments/scale", "statefulsets", "controllerrevisions"} <= {
        r["name"] for r in apps["resources"]
    }
    content_type, aggregated = _get(kubeconfig, "/apis", AGGREGATED + ",application/json")
    assert content_type == AGGREGATED
    groups = {g["metadata"]["name"] for g in aggregated["items"]}
    assert {"apps", "events.k8s.io", "coordination.k8s.io", "networking.k8s.io"} <= groups
    apps_v1 = next(g for g in aggregated["items"] if g["metadata"]["name"] == "apps")
    deployments = next(
        r for r in apps_v1["versions"][0]["resources"] if r["resource"] == "deployments"
    )
    assert deployments["shortNames"] == ["deploy"]
    assert {s["subresource"] for s in deployments["subresources"]} >= {"scale", "status"}
    _, plain = _get(kubeconfig, "/apis")
    assert plain["kind"] == "APIGroupList"


def test_kubectl_gets_every_workload_kind_across_namespaces(kubeconfig: str) -> None:
    result = kubectl(kubeconfig, "get", "deploy,sts,ds,pods,svc,cm", "-A")
    assert "kube-root-ca.crt" in result.stdout
    nodes = kubectl(kubeconfig, "get", "nodes")
    assert " Ready " in nodes.stdout


def test_kubectl_api_resources_knows_short_names(kubeconfig: str) -> None:
    result = kubectl(kubeconfig, "api-resources", "--api-group=apps", "-o", "name")
    assert "deployments.apps" in result.stdout.split()
