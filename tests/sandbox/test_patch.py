"""The three patch types, the scale subresource, and a bad patch's message."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json, reference, wait_for

pytestmark = pytest.mark.k8s


def _deployment(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "nginx:1.25",
                            "env": [{"name": "A", "value": "1"}],
                        },
                        {"name": "sidecar", "image": "busybox:1.36"},
                    ]
                },
            },
        },
    }


@pytest.fixture(scope="module")
def apps(api_client: Any) -> Any:
    from kubernetes import client  # noqa: PLC0415

    return client.AppsV1Api(api_client)


def test_strategic_merge_patch_merges_containers_and_env_by_name(
    kubeconfig: str, namespace: str, apps: Any
) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("smp"))
    patch = {
        "spec": {
            "template": {
                "spec": {
                    "containers": [
                        {"name": "sidecar", "resources": {"limits": {"memory": "64Mi"}}},
                        {
                            "name": "app",
                            "env": [{"name": "B", "value": "2"}, {"name": "A", "value": "10"}],
                        },
                    ]
                }
            }
        }
    }
    kubectl(kubeconfig, "-n", namespace, "patch", "deploy", "smp", "-p", json.dumps(patch))
    containers = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy", "smp")["spec"][
        "template"
    ]["spec"]["containers"]
    # The items the patch names come in the patch's order; an item new to the list comes
    # before the live items that follow it (strategicpatch's normalizeElementOrder).
    assert [c["name"] for c in containers] == ["sidecar", "app"]
    sidecar, app = containers
    assert app["image"] == "nginx:1.25"
    assert app["env"] == [{"name": "B", "value": "2"}, {"name": "A", "value": "10"}]
    assert sidecar["resources"] == {"limits": {"memory": "64Mi"}}
    assert sidecar["image"] == "busybox:1.36"

    added = {"spec": {"template": {"spec": {"containers": [{"name": "new", "image": "x:1"}]}}}}
    apps.patch_namespaced_deployment("smp", namespace, added)
    containers = apps.read_namespaced_deployment("smp", namespace).spec.template.spec.containers
    assert [c.name for c in containers] == ["new", "sidecar", "app"]
    ordered = {
        "spec": {
            "template": {
                "spec": {
                    "$setElementOrder/containers": [
                        {"name": "app"},
                        {"name": "new"},
                        {"name": "sidecar"},
                    ],
                    "containers": [{"name": "new", "$patch": "delete"}],
                }
            }
        }
    }
    kubectl(kubeconfig, "-n", namespace, "patch", "deploy", "smp", "-p", json.dumps(ordered))
    containers = apps.read_namespaced_deployment("smp", namespace).spec.template.spec.containers
    assert [c.name for c in containers] == ["app", "sidecar"]

    remove = {
        "spec": {"template": {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}]}}}
    }
    apps.patch_namespaced_deployment("smp", namespace, remove)
    containers = apps.read_namespaced_deployment("smp", namespace).spec.template.spec.containers
    assert [c.name for c in containers] == ["app"]


def test_merge_patch_replaces_lists_and_deletes_nulls(kubeconfig: str, namespace: str) -> None:
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "create",
        "configmap",
        "merge",
        "--from-literal=a=1",
        "--from-literal=b=2",
    )
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "patch",
        "configmap",
        "merge",
        "--type=merge",
        "-p",
        '{"data": {"a": null, "c": "3"}, "metadata": {"labels": {"x": "y"}}}',
    )
    cm = kubectl_json(kubeconfig, "-n", namespace, "get", "configmap", "merge")
    assert cm["data"] == {"b": "2", "c": "3"}
    assert cm["metadata"]["labels"] == {"x": "y"}


def test_json_patch_operations(kubeconfig: str, namespace: str, apps: Any) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("jp"))
    ops = [
        {"op": "replace", "path": "/spec/replicas", "value": 2},
        {"op": "add", "path": "/metadata/annotations", "value": {"team": "sre"}},
        {"op": "remove", "path": "/spec/template/spec/containers/1"},
        {"op": "test", "path": "/spec/template/spec/containers/0/name", "value": "app"},
    ]
    kubectl(
        kubeconfig, "-n", namespace, "patch", "deploy", "jp", "--type=json", "-p", json.dumps(ops)
    )
    deploy = apps.read_namespaced_deployment("jp", namespace)
    assert deploy.spec.replicas == 2
    assert deploy.metadata.annotations["team"] == "sre"
    assert [c.name for c in deploy.spec.template.spec.containers] == ["app"]
    assert deploy.metadata.generation == 2
    failing = [{"op": "test", "path": "/spec/replicas", "value": 9}]
    result = kubectl(
        kubeconfig,
        "-n",
        namespace,
        "patch",
        "deploy",
        "jp",
        "--type=json",
        "-p",
        json.dumps(failing),
        check=False,
    )
    assert result.returncode == 1


def test_bad_strategic_patch_is_reported_like_the_real_server(
    kubeconfig: str, namespace: str, apps: Any
) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("bad"))
    result = kubectl(
        kubeconfig,
        "-n",
        namespace,
        "patch",
        "deploy",
        "bad",
        "-p",
        '{"spec":{"replicas":"x"}}',
        check=False,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == reference("kubectl-errors.json")["400-bad-strategic-patch"]["stderr"]
    )


def test_scale_subresource_and_kubectl_scale(kubeconfig: str, namespace: str, apps: Any) -> None:
    apps.create_namespaced_deployment(namespace, _deployment("scaled"))
    scale = apps.read_namespaced_deployment_scale("scaled", namespace)
    assert scale.kind == "Scale"
    assert scale.api_version == "autoscaling/v1"
    assert scale.spec.replicas == 1
    assert scale.status.selector == "app=scaled"
    apps.patch_namespaced_deployment_scale("scaled", namespace, {"spec": {"replicas": 2}})
    kubectl(kubeconfig, "-n", namespace, "scale", "deploy/scaled", "--replicas=3")
    wait_for(
        lambda: apps.read_namespaced_deployment("scaled", namespace).status.ready_replicas == 3,
        "3 ready replicas",
    )
    scale = apps.read_namespaced_deployment_scale("scaled", namespace)
    assert (scale.spec.replicas, scale.status.replicas) == (3, 3)
