"""StatefulSets and DaemonSets: ordinal pods, ControllerRevisions, updates and undo."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import kubectl, kubectl_json, reference, wait_for

pytestmark = pytest.mark.k8s


def _workload(kind: str, name: str, image: str, **spec: object) -> str:
    container = "postgres" if kind == "StatefulSet" else "agent"
    body = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            **spec,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": container, "image": image}]},
            },
        },
    }
    return json.dumps(body)


def _revisions(kubeconfig: str, namespace: str, app: str) -> dict[str, tuple[int, str]]:
    items = kubectl_json(
        kubeconfig, "-n", namespace, "get", "controllerrevisions", "-l", f"app={app}"
    )["items"]
    return {
        r["metadata"]["name"]: (
            r["revision"],
            r["data"]["spec"]["template"]["spec"]["containers"][0]["image"],
        )
        for r in items
    }


def _create_and_roll_out(kubeconfig: str, namespace: str, manifest: str, ref: str) -> None:
    """`kubectl create -f -` the manifest and wait until `ref` (e.g. sts/db) has rolled out."""
    kubectl(kubeconfig, "-n", namespace, "create", "-f", "-", stdin=manifest)
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", ref, "--timeout=60s")


def test_statefulset_update_and_undo_use_controller_revisions(
    kubeconfig: str, namespace: str
) -> None:
    _create_and_roll_out(
        kubeconfig,
        namespace,
        _workload("StatefulSet", "db", "postgres:15", replicas=2, serviceName="db"),
        "sts/db",
    )
    pods = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=db")["items"]
    assert sorted(p["metadata"]["name"] for p in pods) == ["db-0", "db-1"]

    kubectl(kubeconfig, "-n", namespace, "set", "image", "sts/db", "postgres=postgres:16")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "sts/db", "--timeout=60s")
    kubectl(kubeconfig, "-n", namespace, "rollout", "undo", "sts/db")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "sts/db", "--timeout=60s")

    history = kubectl(kubeconfig, "-n", namespace, "rollout", "history", "sts/db").stdout
    assert history == reference("07-statefulset-rollout-history.txt")
    revisions = _revisions(kubeconfig, namespace, "db")
    assert sorted(revisions.values()) == [(2, "postgres:16"), (3, "postgres:15")]
    sts = kubectl_json(kubeconfig, "-n", namespace, "get", "sts", "db")
    newest = next(name for name, (number, _) in revisions.items() if number == 3)
    assert sts["status"]["updateRevision"] == newest

    def all_pods_back_on_15() -> bool:
        items = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=db")["items"]
        return sorted(
            (
                p["metadata"]["name"],
                p["spec"]["containers"][0]["image"],
                p["metadata"]["labels"]["controller-revision-hash"],
                p["status"].get("phase"),
            )
            for p in items
        ) == [
            ("db-0", "postgres:15", newest, "Running"),
            ("db-1", "postgres:15", newest, "Running"),
        ]

    wait_for(all_pods_back_on_15, "pods recreated at the undone revision")


def test_deleted_statefulset_pod_comes_back_with_the_same_name(
    kubeconfig: str, namespace: str
) -> None:
    _create_and_roll_out(
        kubeconfig,
        namespace,
        _workload("StatefulSet", "cache", "redis:7", replicas=1, serviceName="cache"),
        "sts/cache",
    )
    uid = kubectl_json(kubeconfig, "-n", namespace, "get", "pod", "cache-0")["metadata"]["uid"]
    kubectl(kubeconfig, "-n", namespace, "delete", "pod", "cache-0")

    def recreated() -> bool:
        result = kubectl(
            kubeconfig, "-n", namespace, "get", "pod", "cache-0", "-o", "json", check=False
        )
        if result.returncode:
            return False
        pod = json.loads(result.stdout)
        return pod["metadata"]["uid"] != uid and pod["status"].get("phase") == "Running"

    wait_for(recreated, "cache-0 recreated")
    kubectl(kubeconfig, "-n", namespace, "scale", "sts/cache", "--replicas=2")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "sts/cache", "--timeout=60s")
    assert (
        kubectl_json(kubeconfig, "-n", namespace, "get", "pod", "cache-1")["status"]["phase"]
        == "Running"
    )


def test_daemonset_runs_one_pod_per_node_and_rolls_out(kubeconfig: str, namespace: str) -> None:
    nodes = kubectl_json(kubeconfig, "get", "nodes")["items"]
    _create_and_roll_out(
        kubeconfig, namespace, _workload("DaemonSet", "agent", "busybox:1.36"), "ds/agent"
    )
    pods = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=agent")["items"]
    assert sorted(p["spec"]["nodeName"] for p in pods) == sorted(
        n["metadata"]["name"] for n in nodes
    )
    kubectl(kubeconfig, "-n", namespace, "set", "image", "ds/agent", "agent=busybox:1.37")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "ds/agent", "--timeout=60s")

    def updated() -> bool:
        items = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=agent")["items"]
        images = [
            p["spec"]["containers"][0]["image"]
            for p in items
            if not p["metadata"].get("deletionTimestamp")
        ]
        return images == ["busybox:1.37"] * len(nodes)

    wait_for(updated, "daemonset pods updated")
    assert sorted(v[0] for v in _revisions(kubeconfig, namespace, "agent").values()) == [1, 2]
