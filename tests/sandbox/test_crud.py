"""Create, read, update, delete, selectors, and the server's exact error bodies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import kubectl, raw_request, reference

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def core(api_client: Any) -> Any:
    from kubernetes import client  # noqa: PLC0415

    return client.CoreV1Api(api_client)


@pytest.fixture(scope="module")
def apps(api_client: Any) -> Any:
    from kubernetes import client  # noqa: PLC0415

    return client.AppsV1Api(api_client)


def _error(call: Any) -> tuple[int, dict]:
    from kubernetes.client import ApiException  # noqa: PLC0415

    with pytest.raises(ApiException) as caught:
        call()
    return caught.value.status, json.loads(caught.value.body)


def _recorded(key: str, name: str = "cfg") -> tuple[int, dict]:
    """A recorded status and body; the recording's object was named `cfg`."""
    entry = reference("http-responses.json")[key]
    text = json.dumps(entry["body"])
    text = text.replace('\\"cfg\\"', f'\\"{name}\\"').replace('"name": "cfg"', f'"name": "{name}"')
    return entry["status"], json.loads(text)


def test_create_get_list_delete_configmap(core: Any, namespace: str) -> None:
    created = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg", "labels": {"tier": "a"}}, "data": {"a": "1"}}
    )
    assert created.metadata.uid
    assert created.metadata.resource_version
    assert created.metadata.creation_timestamp is not None
    fetched = core.read_namespaced_config_map("cfg", namespace)
    assert fetched.data == {"a": "1"}
    listing = core.list_namespaced_config_map(namespace, label_selector="tier=a")
    assert [c.metadata.name for c in listing.items] == ["cfg"]
    assert int(listing.metadata.resource_version) >= int(created.metadata.resource_version)
    core.delete_namespaced_config_map("cfg", namespace)
    status, body = _error(lambda: core.read_namespaced_config_map("cfg", namespace))
    assert status == 404
    assert body["reason"] == "NotFound"


def test_generate_name_and_label_selector_operators(core: Any, namespace: str) -> None:
    for tier in ("a", "b", "c"):
        core.create_namespaced_config_map(
            namespace,
            {"metadata": {"generateName": "gen-", "labels": {"tier": tier, "sel": "yes"}}},
        )
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "nolabel-sel"}})

    def names(selector: str) -> list[str]:
        # Only this test's ConfigMaps: a cluster adds its own to every namespace
        # (kube-root-ca.crt, and e.g. openshift-service-ca.crt), without labels.
        items = core.list_namespaced_config_map(namespace, label_selector=selector).items
        return sorted(
            (i.metadata.labels or {}).get("tier", "-")
            for i in items
            if i.metadata.name.startswith("gen-") or i.metadata.name == "nolabel-sel"
        )

    assert names("sel=yes,tier in (a,b)") == ["a", "b"]
    assert names("sel==yes,tier notin (a)") == ["b", "c"]
    assert names("sel,tier!=c") == ["a", "b"]
    assert names("!tier") == ["-"]
    generated = [
        i.metadata.name
        for i in core.list_namespaced_config_map(namespace, label_selector="sel").items
    ]
    assert all(n.startswith("gen-") and len(n) == len("gen-") + 5 for n in generated)
    by_name = core.list_namespaced_config_map(namespace, field_selector="metadata.name=nolabel-sel")
    assert [i.metadata.name for i in by_name.items] == ["nolabel-sel"]


def test_update_with_stale_resource_version_conflicts(core: Any, namespace: str) -> None:
    first = core.create_namespaced_config_map(
        namespace, {"metadata": {"name": "cfg-conflict"}, "data": {"a": "1"}}
    )
    first.data = {"a": "2"}
    updated = core.replace_namespaced_config_map("cfg-conflict", namespace, first)
    assert updated.metadata.resource_version != first.metadata.resource_version
    first.data = {"a": "3"}  # still carries the old resourceVersion
    status, body = _error(
        lambda: core.replace_namespaced_config_map("cfg-conflict", namespace, first)
    )
    assert (status, body) == _recorded("409 update with stale resourceVersion", "cfg-conflict")


def test_error_bodies_match_the_real_server(core: Any, apps: Any, namespace: str) -> None:
    status, body = _error(lambda: apps.read_namespaced_deployment("nope", namespace))
    assert (status, body) == _recorded("404 get missing deployment")

    core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}, "data": {"a": "1"}})
    status, body = _error(
        lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": "cfg"}})
    )
    assert (status, body) == _recorded("409 create existing configmap")

    status, body = _error(
        lambda: core.create_namespaced_config_map(namespace, {"metadata": {"name": "Bad_Name"}})
    )
    assert (status, body) == _recorded("422 create invalid name")


def test_patch_with_plain_json_is_unsupported_media_type(kubeconfig: str, namespace: str) -> None:
    # The kubernetes client turns application/json PATCHes into strategic merge patches, so go
    # one layer down, to its urllib3 pool (which carries the cluster's TLS settings).
    status, _, body = raw_request(
        kubeconfig,
        "PATCH",
        f"/api/v1/namespaces/{namespace}/configmaps/cfg",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        body=json.dumps({"data": {"b": "2"}}),
    )
    assert (status, json.loads(body)) == _recorded("415 patch with json content type")


def test_kubectl_prints_the_real_error_messages(kubeconfig: str, namespace: str) -> None:
    messages = reference("kubectl-errors.json")
    missing = kubectl(kubeconfig, "-n", namespace, "get", "deploy", "nope", check=False)
    assert missing.returncode == 1
    assert missing.stderr.strip() == messages["404-get-missing"]["stderr"]
    kubectl(kubeconfig, "-n", namespace, "create", "configmap", "dup", "--from-literal=a=1")
    again = kubectl(
        kubeconfig, "-n", namespace, "create", "configmap", "dup", "--from-literal=a=1", check=False
    )
    assert again.stderr.strip() == messages["409-already-exists"]["stderr"].replace(
        '"cfg"', '"dup"'
    )
    bad = kubectl(kubeconfig, "-n", namespace, "create", "configmap", "Bad_Name", check=False)
    assert bad.stderr.strip() == messages["422-invalid-name"]["stderr"]


def test_kubectl_replace_with_stale_lease_conflicts(kubeconfig: str, namespace: str) -> None:
    lease = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": "runbook-lock", "namespace": namespace},
        "spec": {"holderIdentity": "run-1", "leaseDurationSeconds": 30},
    }
    kubectl(kubeconfig, "create", "-f", "-", stdin=json.dumps(lease))
    current = json.loads(
        kubectl(kubeconfig, "-n", namespace, "get", "lease", "runbook-lock", "-o", "json").stdout
    )
    stale = dict(current, spec={"holderIdentity": "run-2", "leaseDurationSeconds": 30})
    kubectl(kubeconfig, "replace", "-f", "-", stdin=json.dumps(stale))
    result = kubectl(kubeconfig, "replace", "-f", "-", stdin=json.dumps(stale), check=False)
    expected = reference("kubectl-errors.json")["409-conflict-stale-resourceVersion"]["stderr"]
    assert result.returncode == 1
    assert result.stderr.strip() == expected
