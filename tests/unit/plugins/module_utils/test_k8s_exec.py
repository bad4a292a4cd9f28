"""Several commands in containers: status-channel parsing, command specs, results, the pool."""

import json
import threading
import time

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_exec
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_exec import (
    CommandSpecError,
    choose_container,
    command_argv,
    command_result,
    command_specs,
    exit_status,
    handshake_error,
    not_run_result,
    run_concurrently,
    summary,
)
from hypothesis import given
from hypothesis import strategies as st

# What a kubelet writes on the status channel (channel 3) when an exec ends.
SUCCESS = {"metadata": {}, "status": "Success"}
NON_ZERO = {
    "metadata": {},
    "status": "Failure",
    "message": "command terminated with non-zero exit code: error executing command "
    "[sh -c exit 3], exit code 3",
    "reason": "NonZeroExitCode",
    "details": {"causes": [{"reason": "ExitCode", "message": "3"}]},
}
NOT_STARTED = {
    "metadata": {},
    "status": "Failure",
    "message": 'OCI runtime exec failed: exec: "nope": executable file not found',
    "reason": "InternalError",
}


def _spec(name="df", **extra):
    return command_specs([dict(name=name, pod="api-0", command="df -h", **extra)], "apps")[0]


def test_success_is_exit_code_zero():
    assert exit_status(json.dumps(SUCCESS)) == (0, None)


def test_a_non_zero_exit_code_comes_from_the_exit_code_cause():
    assert exit_status(json.dumps(NON_ZERO)) == (3, None)


@given(st.integers(min_value=1, max_value=255))
def test_every_exit_code_is_read_back(code):
    status = dict(NON_ZERO, details={"causes": [{"reason": "ExitCode", "message": str(code)}]})
    assert exit_status(json.dumps(status)) == (code, None)


def test_another_failure_means_the_command_did_not_run():
    assert exit_status(json.dumps(NOT_STARTED)) == (None, NOT_STARTED["message"])


def test_a_non_zero_exit_without_an_exit_code_cause_did_not_run():
    status = dict(NON_ZERO, details={"causes": [{"reason": "Other", "message": "x"}]})
    rc, error = exit_status(json.dumps(status))
    assert rc is None
    assert error.startswith("command terminated")


@pytest.mark.parametrize("text", ["", "   ", None])
def test_no_status_means_the_command_did_not_run(text):
    assert exit_status(text) == (None, "the exec ended without an exit status")


@pytest.mark.parametrize("text", ["not json", "[1, 2]"])
def test_an_unreadable_status_did_not_run(text):
    rc, error = exit_status(text)
    assert rc is None
    assert error.startswith("unreadable exit status")


def test_a_string_command_is_split_like_a_shell_and_a_list_is_kept():
    assert command_argv("sh -c 'du -sh /data/* | sort'") == ["sh", "-c", "du -sh /data/* | sort"]
    assert command_argv(["psql", "-c", "select 1"]) == ["psql", "-c", "select 1"]
    assert command_argv([1, "a"]) == ["1", "a"]


def test_specs_take_the_default_namespace_and_container():
    specs = command_specs(
        [
            {"name": "a", "pod": "p", "command": "ls"},
            {"name": "b", "pod": "q", "namespace": "other", "container": "c", "command": ["ls"]},
        ],
        namespace="apps",
        container="main",
    )
    assert specs == [
        {"name": "a", "namespace": "apps", "pod": "p", "container": "main", "argv": ["ls"]},
        {"name": "b", "namespace": "other", "pod": "q", "container": "c", "argv": ["ls"]},
    ]


@pytest.mark.parametrize(
    ("commands", "message"),
    [
        ([{"name": "a", "pod": "p", "command": "ls"}] * 2, "the name a is used twice"),
        ([{"pod": "p", "command": "ls"}], "commands[0] has no name"),
        ([{"name": "a", "command": "ls"}], "command a has no pod"),
        ([{"name": "a", "pod": "p", "command": "  "}], "command a has an empty command"),
        ([{"name": "a", "pod": "p", "command": "ls", "shell": True}], "unknown keys shell"),
        (["ls"], "commands[0] is not a dict"),
    ],
)
def test_unusable_commands_are_refused_with_the_reason(commands, message):
    with pytest.raises(CommandSpecError, match=message.replace("[", r"\[").replace("]", r"\]")):
        command_specs(commands, namespace="apps")


def test_a_command_without_a_namespace_is_refused():
    with pytest.raises(CommandSpecError, match="command a has no namespace"):
        command_specs([{"name": "a", "pod": "p", "command": "ls"}])


POD = {
    "metadata": {"name": "api-0", "namespace": "apps"},
    "spec": {
        "containers": [{"name": "app"}, {"name": "sidecar"}],
        "initContainers": [{"name": "init"}],
    },
}


def test_the_first_container_is_the_default():
    assert choose_container(POD, None) == ("app", None)


def test_a_named_container_or_init_container_is_kept():
    assert choose_container(POD, "sidecar") == ("sidecar", None)
    assert choose_container(POD, "init") == ("init", None)


def test_a_missing_container_names_the_pod_and_its_containers():
    assert choose_container(POD, "db") == (
        None,
        "container db not found in pod apps/api-0 (containers: app, sidecar, init)",
    )


def test_a_result_has_the_output_its_lines_and_the_exit_code():
    result = command_result(_spec(), "a\nb\n", "warn\n", rc=2, container="app")
    assert result == {
        "name": "df",
        "namespace": "apps",
        "pod": "api-0",
        "container": "app",
        "command": ["df", "-h"],
        "ran": True,
        "stdout": "a\nb\n",
        "stderr": "warn\n",
        "stdout_lines": ["a", "b"],
        "stderr_lines": ["warn"],
        "rc": 2,
    }


def test_a_command_that_could_not_run_has_an_error_and_no_exit_code():
    result = command_result(_spec(), error="pod apps/api-0 not found")
    assert result["ran"] is False
    assert "rc" not in result
    assert result["error"] == "pod apps/api-0 not found"
    # Keys Ansible reads as the task's own state never appear in an output.
    assert not {"failed", "skipped", "changed"} & set(result)


def test_the_summary_names_the_commands_that_could_not_run():
    outputs = [
        command_result(_spec("a"), "x", rc=0),
        command_result(_spec("b"), error="pod apps/api-0 not found"),
        command_result(_spec("c"), rc=6),
    ]
    changed, failures, msg = summary(outputs, read_only=True, check_mode=False)
    assert changed is False
    assert failures == ["b"]
    assert msg == "2 of 3 command(s) ran; b: pod apps/api-0 not found"


def test_commands_that_may_change_something_report_a_change_when_they_ran():
    outputs = [command_result(_spec("a"), rc=0)]
    assert summary(outputs, read_only=False, check_mode=False)[0] is True
    failed = [command_result(_spec("a"), error="timed out after 60.0 s")]
    assert summary(failed, read_only=False, check_mode=False)[0] is False


def test_check_mode_without_read_only_says_nothing_ran():
    outputs = [not_run_result(_spec("a"), "check mode"), not_run_result(_spec("b"), "check mode")]
    changed, failures, msg = summary(outputs, read_only=False, check_mode=True)
    assert changed is True
    assert failures == []
    assert "none of the 2 command(s) ran" in msg
    assert outputs[0]["ran"] is False and "rc" not in outputs[0] and "stdout" not in outputs[0]


def test_the_pool_keeps_the_order_and_runs_commands_at_the_same_time():
    specs = [_spec(f"c{i}") for i in range(6)]
    running, peak, lock = [0], [0], threading.Lock()

    def run(spec, state):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return command_result(spec, spec["name"], rc=0)

    outputs = run_concurrently(specs, run, workers=3, timeout=10)
    assert [o["stdout"] for o in outputs] == [f"c{i}" for i in range(6)]
    assert peak[0] == 3


def test_each_worker_has_its_own_state_and_closes_it():
    specs = [_spec(f"c{i}") for i in range(8)]
    closed = []

    def run(spec, state):
        if "id" not in state:
            state["id"] = object()
            state["close"] = lambda: closed.append(state["id"])
        return command_result(spec, str(id(state["id"])), rc=0)

    outputs = run_concurrently(specs, run, workers=2, timeout=10)
    states = {o["stdout"] for o in outputs}
    assert 1 <= len(states) <= 2
    deadline = time.monotonic() + 5
    while len(closed) < len(states) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert sorted(str(id(c)) for c in closed) == sorted(states)


def test_a_command_that_raises_fails_alone():
    def run(spec, state):
        if spec["name"] == "bad":
            raise RuntimeError("boom")
        return command_result(spec, "ok", rc=0)

    outputs = run_concurrently([_spec("bad"), _spec("good")], run, workers=1, timeout=10)
    assert outputs[0]["error"] == "boom"
    assert outputs[1]["rc"] == 0


def test_a_hung_command_is_given_up_and_the_others_still_run(monkeypatch):
    monkeypatch.setattr(_k8s_exec, "GRACE", 0.1)
    release = threading.Event()

    def run(spec, state):
        if spec["name"] == "hung":
            release.wait(10)
        return command_result(spec, "ok", rc=0)

    specs = [_spec("hung"), _spec("a"), _spec("b")]
    started = time.monotonic()
    outputs = run_concurrently(specs, run, workers=1, timeout=0.2)
    release.set()
    assert time.monotonic() - started < 5
    assert outputs[0]["error"] == "timed out after 0.2 s"
    assert [o["rc"] for o in outputs[1:]] == [0, 0]


def test_no_commands_start_no_threads():
    assert run_concurrently([], lambda spec, state: None, workers=4, timeout=1) == []


class _ApiException(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def test_a_refused_handshake_keeps_the_status_and_the_body_not_the_headers():
    reason = (
        "Handshake status 403 Forbidden -+-+- {'audit-id': 'x', 'content-type': "
        '\'application/json\'} -+-+- b\'{"message": "pods \\"api-0\\" is forbidden"}\''
    )
    text = handshake_error(_ApiException(reason))
    assert text.startswith("Handshake status 403 Forbidden: b'{")
    assert "audit-id" not in text


def test_any_other_error_is_its_text():
    assert handshake_error(OSError("connection refused")) == "connection refused"
