"""Deployments: ReplicaSets, revisions, and kubectl's rollout commands, as on a real cluster."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json, reference, rolled_out_deployment, wait_for

pytestmark = pytest.mark.k8s

REVISION = "deployment.kubernetes.io/revision"


def _rollout_status(kubeconfig: str, namespace: str, target: str) -> str:
    return kubectl(kubeconfig, "-n", namespace, "rollout", "status", target, "--timeout=60s").stdout


def _replicasets(kubeconfig: str, namespace: str, app: str) -> dict[str, dict]:
    items = kubectl_json(kubeconfig, "-n", namespace, "get", "rs", "-l", f"app={app}")["items"]
    return {rs["metadata"]["name"]: rs for rs in items}


def test_set_image_history_and_undo_reuse_the_old_replicaset(
    kubeconfig: str, namespace: str
) -> None:
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "create",
        "deployment",
        "web",
        "--image=nginx:1.25",
        "--replicas=2",
    )
    # A real cluster may print "Waiting for ..." lines first; the verdict is the last line.
    status = _rollout_status(kubeconfig, namespace, "deploy/web")
    assert status.splitlines()[-1] + "\n" == reference("03-rollout-status.txt")
    first = _replicasets(kubeconfig, namespace, "web")
    assert len(first) == 1
    (first_name,) = first
    hash_label = first[first_name]["metadata"]["labels"]["pod-template-hash"]
    assert first_name == f"web-{hash_label}"

    kubectl(kubeconfig, "-n", namespace, "set", "image", "deploy/web", "nginx=nginx:1.27")
    _rollout_status(kubeconfig, namespace, "deploy/web")
    kubectl(kubeconfig, "-n", namespace, "rollout", "restart", "deploy/web")
    _rollout_status(kubeconfig, namespace, "deploy/web")
    history = kubectl(kubeconfig, "-n", namespace, "rollout", "history", "deploy/web").stdout
    assert history == reference("02-rollout-history.txt")
    revision_2 = kubectl(
        kubeconfig, "-n", namespace, "rollout", "history", "deploy/web", "--revision=2"
    ).stdout
    recorded = reference("02-rollout-history-revision-2.txt")
    # Only the pod-template-hash differs: it hashes the template, which embeds no cluster data,
    # but the simulator's hash function is its own.
    ours = _replicasets(kubeconfig, namespace, "web")
    revision_2_hash = next(
        rs["metadata"]["labels"]["pod-template-hash"]
        for rs in ours.values()
        if rs["metadata"]["annotations"][REVISION] == "2"
    )
    assert revision_2 == recorded.replace("7d876db474", revision_2_hash)

    kubectl(kubeconfig, "-n", namespace, "rollout", "undo", "deploy/web", "--to-revision=1")
    _rollout_status(kubeconfig, namespace, "deploy/web")
    assert kubectl(
        kubeconfig, "-n", namespace, "rollout", "history", "deploy/web"
    ).stdout == reference("03-rollout-history.txt")
    after = _replicasets(kubeconfig, namespace, "web")
    assert len(after) == 3
    reused = after[first_name]
    assert reused["metadata"]["annotations"][REVISION] == "4"
    assert reused["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"] == "1"
    assert reused["spec"]["replicas"] == 2
    assert all(rs["spec"]["replicas"] == 0 for name, rs in after.items() if name != first_name)
    deploy = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy", "web")
    assert deploy["metadata"]["annotations"][REVISION] == "4"
    assert deploy["metadata"]["generation"] == 4
    assert deploy["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    conditions = {c["type"]: c["reason"] for c in deploy["status"]["conditions"]}
    assert conditions == {
        "Available": "MinimumReplicasAvailable",
        "Progressing": "NewReplicaSetAvailable",
    }
    assert deploy["status"]["observedGeneration"] == 4
    assert deploy["status"]["updatedReplicas"] == deploy["status"]["availableReplicas"] == 2


def test_rollout_restart_annotates_the_template_and_makes_a_new_replicaset(
    kubeconfig: str, namespace: str
) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "restart", "--image=nginx:1.25")
    _rollout_status(kubeconfig, namespace, "deploy/restart")
    before = set(_replicasets(kubeconfig, namespace, "restart"))
    kubectl(kubeconfig, "-n", namespace, "rollout", "restart", "deploy/restart")
    _rollout_status(kubeconfig, namespace, "deploy/restart")
    deploy = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy", "restart")
    annotations = deploy["spec"]["template"]["metadata"]["annotations"]
    assert "kubectl.kubernetes.io/restartedAt" in annotations
    after = _replicasets(kubeconfig, namespace, "restart")
    (new,) = set(after) - before
    assert after[new]["metadata"]["annotations"][REVISION] == "2"
    pods = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=restart")["items"]
    # The old pod may still be Terminating, as on a real cluster: rollout status does not wait.
    pods = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    assert [p["metadata"]["labels"]["pod-template-hash"] for p in pods] == [
        after[new]["metadata"]["labels"]["pod-template-hash"]
    ]


def test_deleted_pod_is_replaced_and_pods_run(
    kubeconfig: str, namespace: str, api_client: Any
) -> None:
    from kubernetes import client  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    rolled_out_deployment(kubeconfig, namespace, "heal", replicas=2)
    pods = core.list_namespaced_pod(namespace, label_selector="app=heal").items
    assert len(pods) == 2
    printed = kubectl(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=heal").stdout
    header, *rows = printed.splitlines()
    assert header.split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [row.split()[1:4] for row in rows] == [["1/1", "Running", "0"]] * 2
    for pod in pods:
        assert pod.status.phase == "Running"
        assert pod.spec.node_name
        assert pod.status.pod_ip
        assert pod.metadata.owner_references[0].kind == "ReplicaSet"
        assert {c.type: c.status for c in pod.status.conditions}["Ready"] == "True"
    victim = pods[0].metadata.name
    kubectl(kubeconfig, "-n", namespace, "delete", "pod", victim)

    def replaced() -> bool:
        now = core.list_namespaced_pod(namespace, label_selector="app=heal").items
        names = {p.metadata.name for p in now if p.status.phase == "Running"}
        return len(names) == 2 and victim not in names

    wait_for(replaced, "a replacement pod")
    killing = core.list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={victim},reason=Killing"
    ).items
    assert [e.message for e in killing] == ["Stopping container nginx"]
    running = core.list_namespaced_pod(
        namespace, field_selector="status.phase=Running", label_selector="app=heal"
    )
    assert len(running.items) == 2


def test_events_are_recorded_in_both_apis(kubeconfig: str, namespace: str, api_client: Any) -> None:
    from kubernetes import client  # noqa: PLC0415

    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "ev", "--image=nginx:1.25")
    _rollout_status(kubeconfig, namespace, "deploy/ev")
    core = client.CoreV1Api(api_client)
    pod = core.list_namespaced_pod(namespace, label_selector="app=ev").items[0]
    selector = f"involvedObject.name={pod.metadata.name},involvedObject.kind=Pod"

    def pod_reasons() -> set[str]:
        events = core.list_namespaced_event(namespace, field_selector=selector).items
        return {e.reason for e in events}

    wait_for(
        lambda: {"Scheduled", "Pulled", "Created", "Started"} <= pod_reasons(),
        "kubelet and scheduler events",
    )
    deploy_events = core.list_namespaced_event(
        namespace, field_selector="involvedObject.name=ev,involvedObject.kind=Deployment"
    ).items
    assert any(
        e.reason == "ScalingReplicaSet" and e.source.component == "deployment-controller"
        for e in deploy_events
    )
    # Read raw JSON: the client's EventsV1Event model rejects the `eventTime: null` that real
    # servers send for events recorded through the core API.
    raw = client.EventsV1Api(api_client).list_namespaced_event(namespace, _preload_content=False)
    started = next(
        e
        for e in json.loads(raw.data)["items"]
        if e["reason"] == "Started" and e["regarding"]["name"] == pod.metadata.name
    )
    assert started["note"] == "Container started"
    assert started["regarding"]["fieldPath"] == "spec.containers{nginx}"
    assert started["reportingController"] == "kubelet"
    assert started["eventTime"] is None
    assert started["deprecatedCount"] == 1


def test_kubectl_describe_deployment(kubeconfig: str, namespace: str) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "desc", "--image=nginx:1.25")
    _rollout_status(kubeconfig, namespace, "deploy/desc")
    text = kubectl(kubeconfig, "-n", namespace, "describe", "deploy", "desc").stdout
    assert "NewReplicaSet:" in text
    assert "Scaled up replica set desc-" in text
    assert "MinimumReplicasAvailable" in text


def test_delete_deployment_removes_its_replicasets_and_pods(
    kubeconfig: str, namespace: str
) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "gone", "--image=nginx:1.25")
    _rollout_status(kubeconfig, namespace, "deploy/gone")
    kubectl(kubeconfig, "-n", namespace, "delete", "deploy", "gone")

    def cleaned() -> bool:
        rs = kubectl_json(kubeconfig, "-n", namespace, "get", "rs", "-l", "app=gone")["items"]
        pods = kubectl_json(kubeconfig, "-n", namespace, "get", "pods", "-l", "app=gone")["items"]
        return not rs and not pods

    wait_for(cleaned, "garbage collection")
    missing = kubectl(kubeconfig, "-n", namespace, "get", "deploy", "gone", check=False)
    assert json.dumps(missing.stderr).count("not found") == 1


def test_rolling_update_steps_within_max_surge(kubeconfig: str, namespace: str) -> None:
    rolled_out_deployment(kubeconfig, namespace, "steps", replicas=2)
    (old,) = _replicasets(kubeconfig, namespace, "steps")
    kubectl(kubeconfig, "-n", namespace, "set", "image", "deploy/steps", "nginx=nginx:1.27")
    _rollout_status(kubeconfig, namespace, "deploy/steps")
    (new,) = set(_replicasets(kubeconfig, namespace, "steps")) - {old}
    events = kubectl_json(
        kubeconfig,
        "-n",
        namespace,
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=steps,reason=ScalingReplicaSet",
    )["items"]
    messages = {e["message"] for e in events}
    # 2 replicas with the default 25% surge and 25% unavailability: one pod at a time.
    assert {
        f"Scaled up replica set {new} from 0 to 1",
        f"Scaled down replica set {old} from 2 to 1",
        f"Scaled up replica set {new} from 1 to 2",
        f"Scaled down replica set {old} from 1 to 0",
    } <= messages
