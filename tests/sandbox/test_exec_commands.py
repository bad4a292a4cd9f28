"""sre.runbooks.k8s_exec_commands: several commands in containers in one call, concurrently."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import running_pod

pytestmark = pytest.mark.k8s

Module = Callable[..., dict[str, Any]]
MISSING_BINARY = "no-such-binary"  # exit code 126 from the container runtime, as from the sandbox


@pytest.fixture(scope="module")
def pods(kubeconfig: str, namespace: str) -> str:
    """Pods `one` (container app) and `two` (app and sidecar) in the module's namespace."""
    try:
        running_pod(kubeconfig, namespace, "one")
        running_pod(kubeconfig, namespace, "two", containers=("app", "sidecar"))
    except pytest.fail.Exception as error:
        if not os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG"):
            raise
        pytest.skip(f"the cluster starts no containers, so nothing can run in them: {error}")
    return namespace


@pytest.fixture(scope="module")
def exec_served(kubeconfig: str, pods: str) -> None:
    """Skip, with the cluster's answer, where pods cannot be exec'd into (a bare control plane)."""
    from ansible_collections.sre.runbooks.plugins.module_utils._k8s_exec import (  # noqa: PLC0415
        command_specs,
        run_commands,
    )
    from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (  # noqa: PLC0415
        client_from_options,
    )

    client = client_from_options({"kubeconfig": kubeconfig})
    specs = command_specs([{"name": "probe", "pod": "one", "command": "echo ok"}], pods)
    (output,) = run_commands(client, specs, workers=1, timeout=30)
    if output.get("rc") == 0:
        return
    if os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG"):
        pytest.skip(f"the cluster cannot run commands in pods: {output.get('error') or output}")
    pytest.fail(f"exec into the sandbox's pod failed: {output}")


def _run(module: Module, kubeconfig: str, namespace: str, check: bool = False, **args: Any) -> dict:
    result = module(
        "sre.runbooks.k8s_exec_commands",
        {"kubeconfig": kubeconfig, "namespace": namespace, **args},
        check=check,
    )
    assert not result.get("failed"), result
    return result


def test_several_commands_run_in_one_call_with_their_outputs_and_exit_codes(
    ansible_module: Module, kubeconfig: str, pods: str, exec_served: None
) -> None:
    commands = [
        {"name": "hello", "pod": "one", "command": "echo hello world"},
        {"name": "host", "pod": "one", "command": ["hostname"]},
        {"name": "sidecar", "pod": "two", "container": "sidecar", "command": "echo from sidecar"},
        {"name": "missing", "pod": "two", "container": "app", "command": MISSING_BINARY},
    ]
    # More commands than workers, each with its own answer: no thread reads another's stream.
    commands += [
        {
            "name": f"n{i}",
            "pod": "one" if i % 2 else "two",
            "container": "app",
            "command": f"echo {i}",
        }
        for i in range(8)
    ]
    result = _run(ansible_module, kubeconfig, pods, commands=commands, read_only=True, workers=3)
    outputs = {o["name"]: o for o in result["outputs"]}
    assert [o["name"] for o in result["outputs"]] == [c["name"] for c in commands]
    assert result["changed"] is False
    assert result["failures"] == []
    assert outputs["hello"]["stdout"] == "hello world\n"
    assert outputs["hello"]["stdout_lines"] == ["hello world"]
    assert outputs["hello"]["rc"] == 0
    assert outputs["hello"]["container"] == "app"
    assert outputs["host"]["stdout"] == "one\n"
    assert outputs["sidecar"]["stdout"] == "from sidecar\n"
    assert outputs["sidecar"]["container"] == "sidecar"
    for i in range(8):
        assert outputs[f"n{i}"]["stdout"] == f"{i}\n", outputs[f"n{i}"]
        assert outputs[f"n{i}"]["rc"] == 0


def test_a_non_zero_exit_code_is_a_result_not_a_failure(
    ansible_module: Module, kubeconfig: str, pods: str, exec_served: None
) -> None:
    commands = [{"name": "missing", "pod": "one", "command": MISSING_BINARY}]
    result = _run(ansible_module, kubeconfig, pods, commands=commands, read_only=True)
    (output,) = result["outputs"]
    assert output["ran"] is True
    assert output["rc"] == 126
    assert "executable file not found" in output["stderr"]
    assert "error" not in output
    assert result["failures"] == []


def test_a_missing_pod_or_container_fails_its_command_only(
    ansible_module: Module, kubeconfig: str, pods: str, exec_served: None
) -> None:
    commands = [
        {"name": "ghost", "pod": "ghost", "command": "echo boo"},
        {"name": "hello", "pod": "one", "command": "echo hello"},
        {"name": "nope", "pod": "two", "container": "nope", "command": "echo nope"},
    ]
    result = _run(ansible_module, kubeconfig, pods, commands=commands, read_only=True)
    ghost, hello, nope = result["outputs"]
    assert result["failures"] == ["ghost", "nope"]
    assert ghost["ran"] is False and "rc" not in ghost
    assert ghost["error"] == f"pod {pods}/ghost not found"
    assert nope["error"].startswith(f"container nope not found in pod {pods}/two"), nope
    assert hello["stdout"] == "hello\n" and hello["rc"] == 0
    assert "ghost: pod" in result["msg"] and "nope: container nope" in result["msg"]


def test_check_mode_runs_nothing_unless_the_commands_are_read_only(
    ansible_module: Module, kubeconfig: str, pods: str, exec_served: None
) -> None:
    commands = [{"name": "hello", "pod": "one", "command": "echo hello"}]
    planned = _run(ansible_module, kubeconfig, pods, check=True, commands=commands)
    (output,) = planned["outputs"]
    assert output["ran"] is False
    assert "stdout" not in output and "rc" not in output and "error" not in output
    assert output["skip_reason"]
    assert planned["changed"] is True
    assert "check mode" in planned["msg"] and "read_only" in planned["msg"]
    assert planned["failures"] == []
    read = _run(ansible_module, kubeconfig, pods, check=True, commands=commands, read_only=True)
    assert read["outputs"][0]["stdout"] == "hello\n"
    assert read["changed"] is False


def test_a_command_name_given_twice_is_refused(
    ansible_module: Module, kubeconfig: str, namespace: str
) -> None:
    twice = [
        {"name": "a", "pod": "one", "command": "echo 1"},
        {"name": "a", "pod": "one", "command": "echo 2"},
    ]
    result = ansible_module(
        "sre.runbooks.k8s_exec_commands",
        {"kubeconfig": kubeconfig, "namespace": namespace, "commands": twice},
    )
    assert result["failed"] is True
    assert "the name a is used twice" in result["msg"]
