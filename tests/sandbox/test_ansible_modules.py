"""The kubernetes.core modules against the cluster, run the way runbooks run them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json

pytestmark = pytest.mark.k8s

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE_BIN = REPO_ROOT / ".venv" / "bin"
ANSIBLE_ENV = {
    "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
    "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
    "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
}


def _ansible(*args: str) -> list[dict[str, Any]]:
    """Run ansible or ansible-playbook with the JSON callback; each task's localhost result."""
    result = subprocess.run(
        [str(ANSIBLE_BIN / args[0]), *args[1:]],
        capture_output=True,
        text=True,
        env={**os.environ, **ANSIBLE_ENV},
        timeout=180,
        check=False,
    )
    assert result.stdout, result.stderr
    ran = json.loads(result.stdout)["plays"][0]["tasks"]
    return [task["hosts"]["localhost"] for task in ran]


def _module(module: str, args: dict[str, Any]) -> dict[str, Any]:
    """One module, ad hoc, as `ansible localhost -m MODULE -a ARGS` runs it."""
    (result,) = _ansible(
        "ansible",
        "localhost",
        "-m",
        module,
        "-a",
        json.dumps(args),
        "-e",
        "ansible_python_interpreter={{ ansible_playbook_python }}",
    )
    return result


def _play(tmp_path: Path, *tasks: dict[str, Any]) -> list[dict[str, Any]]:
    """Run tasks in one play on localhost (one Ansible start-up); return each task's result."""
    playbook = tmp_path / "play.yml"
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        "tasks": list(tasks),
    }
    playbook.write_text(json.dumps([play]), encoding="utf-8")
    return _ansible("ansible-playbook", "-i", "localhost,", "-c", "local", str(playbook))


def test_k8s_info_lists_deployments(kubeconfig: str, namespace: str) -> None:
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", "info", "--image=nginx:1.25")
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", "deploy/info", "--timeout=60s")
    result = _module(
        "kubernetes.core.k8s_info",
        {"kind": "Deployment", "namespace": namespace, "kubeconfig": kubeconfig},
    )
    assert not result.get("failed"), result
    assert [r["metadata"]["name"] for r in result["resources"]] == ["info"]
    assert result["resources"][0]["status"]["readyReplicas"] == 1


def test_k8s_creates_checks_patches_applies_and_deletes(
    kubeconfig: str, namespace: str, tmp_path: Path
) -> None:
    def configmap(name: str, value: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": namespace},
            "data": {"k": value},
        }

    def k8s(definition: dict[str, Any], **options: Any) -> dict[str, Any]:
        return {
            "kubernetes.core.k8s": {"kubeconfig": kubeconfig, "definition": definition, **options}
        }

    ssa = {"apply": True, "server_side_apply": {"field_manager": "runbook"}}
    results = _play(
        tmp_path,
        {**k8s(configmap("checked", "v1")), "check_mode": True},
        k8s(configmap("managed", "v1")),
        k8s(configmap("managed", "v1")),
        k8s(configmap("managed", "v2")),
        k8s(configmap("applied", "v1"), **ssa),
        k8s(configmap("applied", "v2"), **ssa),
        k8s(configmap("managed", "v2"), state="absent", wait=True),
    )
    assert [r.get("failed", False) for r in results] == [False] * 7, results
    assert [r["changed"] for r in results] == [True, True, False, True, True, True, True]
    assert kubectl(kubeconfig, "-n", namespace, "get", "cm", "checked", check=False).returncode
    assert kubectl(kubeconfig, "-n", namespace, "get", "cm", "managed", check=False).returncode
    assert kubectl_json(kubeconfig, "-n", namespace, "get", "cm", "applied")["data"] == {"k": "v2"}
