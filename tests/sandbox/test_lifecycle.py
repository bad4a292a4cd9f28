"""Deletion, dry runs, paging and namespaces: what clients rely on around the basic verbs."""

from __future__ import annotations

import json
import os
import secrets
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json, raw_request, wait_for

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def core(api_client: Any) -> Any:
    from kubernetes import client  # noqa: PLC0415

    return client.CoreV1Api(api_client)


def test_server_dry_run_changes_nothing(kubeconfig: str, namespace: str) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "configmap", "dry", "--from-literal=a=1")
    patched = kubectl(
        kubeconfig,
        "-n",
        namespace,
        "patch",
        "configmap",
        "dry",
        "--dry-run=server",
        "-p",
        '{"data":{"a":"2"}}',
        "-o",
        "json",
    )
    assert json.loads(patched.stdout)["data"] == {"a": "2"}
    kubectl(kubeconfig, "-n", namespace, "delete", "configmap", "dry", "--dry-run=server")
    kubectl(kubeconfig, "-n", namespace, "create", "configmap", "dry-new", "--dry-run=server")
    assert kubectl_json(kubeconfig, "-n", namespace, "get", "configmap", "dry")["data"] == {
        "a": "1"
    }
    assert (
        kubectl(kubeconfig, "-n", namespace, "get", "configmap", "dry-new", check=False).returncode
        == 1
    )


def test_list_pages_with_limit_and_continue(core: Any, namespace: str) -> None:
    for index in range(5):
        core.create_namespaced_config_map(
            namespace, {"metadata": {"name": f"page-{index}", "labels": {"paged": "yes"}}}
        )
    seen: list[str] = []
    token = None
    while True:
        page = core.list_namespaced_config_map(
            namespace, label_selector="paged=yes", limit=2, _continue=token
        )
        assert len(page.items) <= 2
        seen.extend(i.metadata.name for i in page.items)
        token = page.metadata._continue
        if not token:
            break
    assert seen == [f"page-{index}" for index in range(5)]


def test_finalizers_hold_deletion_until_removed(kubeconfig: str, namespace: str, core: Any) -> None:
    core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "held", "finalizers": ["example.com/hold"]}}
    )
    core.delete_namespaced_config_map("held", namespace)
    held = core.read_namespaced_config_map("held", namespace)
    assert held.metadata.deletion_timestamp is not None
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "patch",
        "configmap",
        "held",
        "--type=merge",
        "-p",
        '{"metadata":{"finalizers":null}}',
    )
    wait_for(
        lambda: (
            kubectl(kubeconfig, "-n", namespace, "get", "configmap", "held", check=False).returncode
            == 1
        ),
        "the held configmap to go",
    )


def test_foreground_deletion_removes_dependents_first(kubeconfig: str, namespace: str) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "fg", "--image=nginx:1.25")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/fg", "--timeout=60s")
    kubectl(kubeconfig, "-n", namespace, "delete", "deployment", "fg", "--cascade=foreground")
    assert (
        kubectl_json(kubeconfig, "-n", namespace, "get", "rs,pods", "-l", "app=fg")["items"] == []
    )
    orphan = kubectl(
        kubeconfig, "-n", namespace, "create", "deployment", "orph", "--image=nginx:1.25"
    )
    assert orphan.returncode == 0
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/orph", "--timeout=60s")
    kubectl(kubeconfig, "-n", namespace, "delete", "deployment", "orph", "--cascade=orphan")
    replicasets = wait_for(
        lambda: [
            rs
            for rs in kubectl_json(kubeconfig, "-n", namespace, "get", "rs", "-l", "app=orph")[
                "items"
            ]
            if not rs["metadata"].get("ownerReferences")
        ],
        "the orphaned replicaset",
    )
    assert len(replicasets) == 1


def test_deleting_a_namespace_deletes_its_contents(kubeconfig: str, core: Any) -> None:
    name = f"sbx-doomed-{secrets.token_hex(3)}"
    kubectl(kubeconfig, "create", "namespace", name)
    kubectl(kubeconfig, "-n", name, "create", "deployment", "web", "--image=nginx:1.25")
    kubectl(kubeconfig, "-n", name, "create", "configmap", "cfg")
    kubectl(kubeconfig, "delete", "namespace", name, "--timeout=60s")
    assert kubectl(kubeconfig, "get", "namespace", name, check=False).returncode == 1
    created = kubectl(kubeconfig, "-n", name, "create", "configmap", "late", check=False)
    assert created.returncode == 1
    assert f'namespaces "{name}" not found' in created.stderr


def test_invalid_workloads_are_rejected_with_field_errors(kubeconfig: str, namespace: str) -> None:
    body = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken"},
        "spec": {
            "selector": {"matchLabels": {"app": "other"}},
            "template": {
                "metadata": {"labels": {"app": "broken"}},
                "spec": {"containers": [{"name": "c"}]},
            },
        },
    }
    result = kubectl(
        kubeconfig, "-n", namespace, "create", "-f", "-", stdin=json.dumps(body), check=False
    )
    assert result.returncode == 1
    assert 'The Deployment "broken" is invalid:' in result.stderr
    assert (
        'spec.template.metadata.labels: Invalid value: {"app":"broken"}: '
        "`selector` does not match template `labels`"
    ) in result.stderr
    assert "spec.template.spec.containers[0].image: Required value" in result.stderr


def test_server_side_apply_creates_then_updates(kubeconfig: str, namespace: str) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "applied", "namespace": namespace},
        "data": {"a": "1"},
    }
    first = kubectl(kubeconfig, "apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    assert "serverside-applied" in first.stdout
    manifest["data"] = {"a": "2", "b": "3"}
    kubectl(kubeconfig, "apply", "--server-side", "-f", "-", stdin=json.dumps(manifest))
    assert kubectl_json(kubeconfig, "-n", namespace, "get", "cm", "applied")["data"] == {
        "a": "2",
        "b": "3",
    }


TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io"


def test_a_deleted_pod_is_terminating_until_its_containers_stop(
    kubeconfig: str, namespace: str, api_client: Any
) -> None:
    """Graceful deletion: the pod stays, with deletionTimestamp and Terminating in `kubectl
    get`, until its kubelet has stopped its containers (the sandbox compresses the 30 s grace
    period to about a second), and then goes."""
    from kubernetes import client  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    container = {"name": "app", "image": "nginx:1.27"}
    core.create_namespaced_pod(
        namespace, {"metadata": {"name": "leaving"}, "spec": {"containers": [container]}}
    )
    wait_for(
        lambda: core.read_namespaced_pod("leaving", namespace).status.container_statuses,
        "the pod to start",
        deadline=60,
    )
    deleted = core.delete_namespaced_pod("leaving", namespace)
    assert deleted.metadata.deletion_timestamp is not None
    assert deleted.metadata.deletion_grace_period_seconds == 30
    status, _, body = raw_request(
        api_client, "GET", f"/api/v1/namespaces/{namespace}/pods/leaving", headers={"Accept": TABLE}
    )
    if status == 404 and os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG"):
        pytest.skip("the pod went before it could be seen terminating (a very fast kubelet)")
    assert status == 200, body
    table = json.loads(body)
    columns = [c["name"] for c in table["columnDefinitions"]]
    assert table["rows"][0]["cells"][columns.index("Status")] == "Terminating"

    def gone() -> bool:
        return not core.list_namespaced_pod(namespace, field_selector="metadata.name=leaving").items

    wait_for(gone, "the pod to go once its containers have stopped", deadline=60)
