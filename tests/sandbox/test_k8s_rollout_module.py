"""sre.runbooks.k8s_rollout against the cluster, checked with kubectl on the same objects."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json

pytestmark = pytest.mark.k8s

Module = Callable[..., dict[str, Any]]


def _kubectl_revisions(kubeconfig: str, namespace: str, target: str) -> list[int]:
    out = kubectl(kubeconfig, "-n", namespace, "rollout", "history", target).stdout
    return [int(m.group(1)) for m in re.finditer(r"^(\d+)\s", out, re.MULTILINE)]


def _image(kubeconfig: str, namespace: str, target: str) -> str:
    obj = kubectl_json(kubeconfig, "-n", namespace, "get", target)
    return obj["spec"]["template"]["spec"]["containers"][0]["image"]


@pytest.fixture(scope="module")
def web(kubeconfig: str, namespace: str) -> str:
    """A Deployment with three revisions: nginx 1.25, 1.26, 1.27."""
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "web", "--image=nginx:1.25")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/web", "--timeout=60s")
    for version in ("1.26", "1.27"):
        kubectl(kubeconfig, "-n", namespace, "set", "image", "deploy/web", f"nginx=nginx:{version}")
        kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/web", "--timeout=60s")
    return "web"


def test_history_agrees_with_kubectl(
    ansible_module: Module, kubeconfig: str, namespace: str, web: str
) -> None:
    result = ansible_module(
        "sre.runbooks.k8s_rollout",
        {"kubeconfig": kubeconfig, "namespace": namespace, "name": web, "action": "history"},
    )
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert [r["revision"] for r in result["history"]] == _kubectl_revisions(
        kubeconfig, namespace, "deploy/web"
    )
    assert [r["images"] for r in result["history"]] == [
        ["nginx:1.25"],
        ["nginx:1.26"],
        ["nginx:1.27"],
    ]
    assert result["revision_before"] == result["revision_after"] == 3


def test_undo_to_revision_restores_its_image_and_check_mode_changes_nothing(
    ansible_module: Module, kubeconfig: str, namespace: str, web: str
) -> None:
    args = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "name": web,
        "action": "undo",
        "to_revision": 1,
    }
    checked = ansible_module("sre.runbooks.k8s_rollout", args, check=True, diff=True)
    assert checked["changed"] is True, checked
    assert checked["diff"]["after"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert _image(kubeconfig, namespace, "deploy/web") == "nginx:1.27"

    done = ansible_module("sre.runbooks.k8s_rollout", args)
    assert done["changed"] is True, done
    assert done["target_revision"] == 1
    assert _image(kubeconfig, namespace, "deploy/web") == "nginx:1.25"
    # kubectl moves the restored revision to the top, and so does the module's history.
    assert _kubectl_revisions(kubeconfig, namespace, "deploy/web") == [2, 3, 4]
    assert done["revision_after"] == 4

    again = ansible_module("sre.runbooks.k8s_rollout", {**args, "to_revision": 4})
    assert again["changed"] is False, again
    assert "already matches revision 4" in again["msg"]


def test_restart_sets_restarted_at_and_status_waits(
    ansible_module: Module, kubeconfig: str, namespace: str, web: str
) -> None:
    result = ansible_module(
        "sre.runbooks.k8s_rollout",
        {"kubeconfig": kubeconfig, "namespace": namespace, "name": web, "action": "restart"},
    )
    assert result["changed"] is True, result
    assert result["revision_after"] == result["revision_before"] + 1
    template = kubectl_json(kubeconfig, "-n", namespace, "get", "deploy/web")["spec"]["template"]
    assert "kubectl.kubernetes.io/restartedAt" in template["metadata"]["annotations"]
    assert _kubectl_revisions(kubeconfig, namespace, "deploy/web")[-1] == result["revision_after"]

    status = ansible_module(
        "sre.runbooks.k8s_rollout",
        {"kubeconfig": kubeconfig, "namespace": namespace, "name": web, "wait": True},
    )
    assert status["rollout"]["done"] is True, status
    assert status["rollout"]["message"] == 'deployment "web" successfully rolled out'
    assert status["rollout"]["observed_generation"] == status["rollout"]["generation"]


def test_status_of_a_paused_rollout_times_out_clearly(
    ansible_module: Module, kubeconfig: str, namespace: str
) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "held", "--image=nginx:1.25")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/held", "--timeout=60s")
    base = {"kubeconfig": kubeconfig, "namespace": namespace, "name": "held"}
    paused = ansible_module("sre.runbooks.k8s_rollout", {**base, "action": "pause"})
    assert paused["changed"] is True, paused
    kubectl(kubeconfig, "-n", namespace, "set", "image", "deploy/held", "nginx=nginx:1.27")
    result = ansible_module("sre.runbooks.k8s_rollout", {**base, "wait": True, "wait_timeout": 2})
    assert result.get("failed"), result
    assert result["msg"].startswith(
        f"Failed to wait for the rollout of Deployment {namespace}/held: timed out after 2s"
    )
    assert "paused" in result["msg"]


def test_statefulset_history_and_undo_agree_with_kubectl(
    ansible_module: Module, kubeconfig: str, namespace: str
) -> None:
    manifest = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  serviceName: db
  replicas: 1
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: postgres, image: "postgres:15"}]}
"""
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", stdin=manifest)
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "sts/db", "--timeout=60s")
    kubectl(kubeconfig, "-n", namespace, "set", "image", "sts/db", "postgres=postgres:16")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "sts/db", "--timeout=60s")
    base = {"kubeconfig": kubeconfig, "namespace": namespace, "name": "db", "kind": "StatefulSet"}
    history = ansible_module("sre.runbooks.k8s_rollout", {**base, "action": "history"})
    assert [r["revision"] for r in history["history"]] == _kubectl_revisions(
        kubeconfig, namespace, "sts/db"
    )
    assert history["history"][-1]["images"] == ["postgres:16"]
    undone = ansible_module("sre.runbooks.k8s_rollout", {**base, "action": "undo"})
    assert undone["changed"] is True, undone
    assert _image(kubeconfig, namespace, "sts/db") == "postgres:15"


def test_one_module_defaults_block_configures_both_collections(
    ansible_cli: Callable[..., Any], kubeconfig: str, namespace: str, web: str, tmp_path: Any
) -> None:
    connection = {"kubeconfig": kubeconfig}
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {
            "group/sre.runbooks.k8s": connection,
            "group/kubernetes.core.k8s": connection,
        },
        "tasks": [
            {
                "name": "history",
                "sre.runbooks.k8s_rollout": {"name": web, "namespace": namespace},
                "register": "ours",
            },
            {
                "name": "info",
                "kubernetes.core.k8s_info": {
                    "kind": "Deployment",
                    "name": web,
                    "namespace": namespace,
                },
                "register": "theirs",
            },
            {
                "name": "compare",
                "ansible.builtin.assert": {
                    "that": [
                        "ours.revision_before | string == theirs.resources[0].metadata"
                        ".annotations['deployment.kubernetes.io/revision']"
                    ]
                },
            },
        ],
    }
    playbook = tmp_path / "play.yml"
    playbook.write_text(json.dumps([play]), encoding="utf-8")
    completed = ansible_cli("ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook))
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_daemonset_undo_restores_the_previous_image_like_kubectl(
    ansible_module: Module, kubeconfig: str, namespace: str
) -> None:
    manifest = {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "agent"},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "template": {
                "metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "fluent-bit:3.0"}]},
            },
        },
    }
    kubectl(kubeconfig, "-n", namespace, "apply", "-f", "-", stdin=json.dumps(manifest))
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "ds/agent", "--timeout=60s")
    kubectl(kubeconfig, "-n", namespace, "set", "image", "ds/agent", "agent=fluent-bit:3.1")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "ds/agent", "--timeout=60s")
    base = {"kubeconfig": kubeconfig, "namespace": namespace, "name": "agent", "kind": "DaemonSet"}
    undone = ansible_module("sre.runbooks.k8s_rollout", {**base, "action": "undo"})
    assert undone["changed"] is True, undone
    assert (undone["revision_before"], undone["target_revision"]) == (2, 1)
    assert _image(kubeconfig, namespace, "ds/agent") == "fluent-bit:3.0"
    assert _kubectl_revisions(kubeconfig, namespace, "ds/agent") == [2, 3]
    assert undone["revision_after"] == 3
