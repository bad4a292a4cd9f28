# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Several commands in containers, run concurrently in one process (not for general re-use).

``kubernetes.stream.stream()`` replaces a method of the ``ApiClient`` it is given for the length
of the call, so two threads must never stream through the same client: every worker thread builds
its own ``ApiClient`` from the one ``Configuration`` of the connection options. The pod reads that
come first go through the shared ``K8sClient`` (a thread-safe urllib3 pool).

The exit code comes from the exec's status channel (channel 3), a ``metav1.Status``: ``Success``
is 0, ``NonZeroExitCode`` carries the code as the message of its ``ExitCode`` cause. Anything else
there means the command did not run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
import shlex
import threading
import time

from ansible.module_utils.common.text.converters import to_native, to_text
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError, target_text

STATUS_CHANNEL = 3
GRACE = 5.0  # seconds a worker may overrun a command's timeout before it is given up


class CommandSpecError(ValueError):
    """The ``commands`` option cannot be used; ``str()`` says which entry and why."""


def command_argv(command):
    """A command as an argv list: a string is split as a shell would, a list is kept."""
    if isinstance(command, (list, tuple)):
        argv = [to_text(part) for part in command]
    else:
        argv = shlex.split(to_text(command or ""))
    return argv


def command_specs(commands, namespace=None, container=None):
    """The ``commands`` option as dicts with name, namespace, pod, container and argv.

    Names must be unique (results are looked up by them); ``namespace`` and ``container`` are
    the defaults of entries that give none.
    """
    specs = []
    seen = set()
    for index, entry in enumerate(commands):
        if not isinstance(entry, dict):
            raise CommandSpecError("commands[%d] is not a dict" % index)
        name = to_text(entry.get("name") or "")
        if not name:
            raise CommandSpecError("commands[%d] has no name" % index)
        if name in seen:
            raise CommandSpecError("commands[%d]: the name %s is used twice" % (index, name))
        seen.add(name)
        spec = dict(
            name=name,
            namespace=entry.get("namespace") or namespace,
            pod=entry.get("pod"),
            container=entry.get("container") or container,
            argv=command_argv(entry.get("command")),
        )
        for field in ("namespace", "pod"):
            if not spec[field]:
                raise CommandSpecError("command %s has no %s" % (name, field))
        if not spec["argv"]:
            raise CommandSpecError("command %s has an empty command" % name)
        unknown = sorted(set(entry) - {"name", "namespace", "pod", "container", "command"})
        if unknown:
            raise CommandSpecError("command %s: unknown keys %s" % (name, ", ".join(unknown)))
        specs.append(spec)
    return specs


def exit_status(text):
    """(rc, error) from the text of the status channel; rc is None when the command did not run.

    An empty channel (the connection ended without a status) also counts as not run.
    """
    text = to_text(text or "").strip()
    if not text:
        return None, "the exec ended without an exit status"
    try:
        status = json.loads(text)
    except ValueError:
        return None, "unreadable exit status: %s" % text[:200]
    if not isinstance(status, dict):
        return None, "unreadable exit status: %s" % text[:200]
    if status.get("status") == "Success":
        return 0, None
    if status.get("reason") == "NonZeroExitCode":
        for cause in (status.get("details") or {}).get("causes") or []:
            if cause.get("reason") == "ExitCode":
                try:
                    return int(cause.get("message")), None
                except (TypeError, ValueError):
                    break
    return None, to_text(status.get("message") or text[:200])


def choose_container(pod, name):
    """(container, error) for ``name`` in ``pod``: the first container when no name is given."""
    spec = pod.get("spec") or {}
    containers = [c.get("name") for c in spec.get("containers") or []]
    init = [c.get("name") for c in spec.get("initContainers") or []]
    target = target_text(
        "pod", (pod.get("metadata") or {}).get("namespace"), pod["metadata"]["name"]
    )
    if not name:
        if containers:
            return containers[0], None
        return None, "%s has no containers" % target
    if name in containers or name in init:
        return name, None
    return None, "container %s not found in %s (containers: %s)" % (
        name,
        target,
        ", ".join(containers + init) or "none",
    )


def command_result(spec, stdout="", stderr="", *, rc=None, error=None, container=None):
    """One command's result: name, where it ran, stdout/stderr (and their lines), rc or error.

    ``rc`` is the command's exit code, a result like any output; a command that could not run at
    all has no ``rc`` but ``error``. (No ``failed`` or ``skipped`` keys: Ansible would read them
    as the task's own.)
    """
    result = dict(
        name=spec["name"],
        namespace=spec["namespace"],
        pod=spec["pod"],
        container=container or spec["container"],
        command=list(spec["argv"]),
        ran=rc is not None,
        stdout=stdout,
        stderr=stderr,
        stdout_lines=stdout.splitlines(),
        stderr_lines=stderr.splitlines(),
    )
    if rc is None:
        result["error"] = error or "the command did not run"
    else:
        result["rc"] = rc
    return result


def not_run_result(spec, reason):
    """A command check mode left alone: no output, no ``rc``, no ``error``."""
    return dict(
        name=spec["name"],
        namespace=spec["namespace"],
        pod=spec["pod"],
        container=spec["container"],
        command=list(spec["argv"]),
        ran=False,
        skip_reason=reason,
    )


def summary(outputs, read_only, check_mode):
    """(changed, failures, msg) of a call: the names of commands that could not run, and why."""
    failures = [o["name"] for o in outputs if "error" in o]
    ran = [o for o in outputs if o["ran"]]
    if check_mode and not read_only:
        msg = (
            "check mode: none of the %d command(s) ran, since they may change something "
            "(read_only is false)" % len(outputs)
        )
        return bool(outputs), failures, msg
    parts = ["%d of %d command(s) ran" % (len(ran), len(outputs))]
    parts.extend("%s: %s" % (o["name"], o["error"]) for o in outputs if "error" in o)
    changed = bool(ran) and not read_only
    return changed, failures, "; ".join(parts)


# The exec itself (needs the kubernetes library) ------------------------------------------------


def _close(response):
    # Closing a socket the peer closed already may raise anything websocket-client has.
    with contextlib.suppress(Exception):
        response.close()
        if getattr(response, "sock", None) is not None and response.sock.sock is not None:
            response.sock.shutdown()


def exec_command(client, core_api, spec, timeout):
    """Run one command (``spec`` from ``command_specs``); its ``command_result``. Never raises."""
    from kubernetes.stream import stream  # noqa: PLC0415  (only here: a heavy import)

    deadline = time.monotonic() + timeout
    namespace, name = spec["namespace"], spec["pod"]
    try:
        pod = client.get("Pod", namespace, name, allow_404=True)
    except K8sError as error:
        return command_result(spec, error=to_text(error))
    if pod is None:
        return command_result(spec, error="pod %s/%s not found" % (namespace, name))
    container, error = choose_container(pod, spec["container"])
    if error:
        return command_result(spec, error=error)
    try:
        response = stream(
            core_api.connect_get_namespaced_pod_exec,
            name,
            namespace,
            command=spec["argv"],
            container=container,
            stdout=True,
            stderr=True,
            stdin=False,
            tty=False,
            _preload_content=False,
        )
    except Exception as error:  # ApiException, websocket and socket errors all mean "not run"
        return command_result(
            spec,
            container=container,
            error="Failed to exec in pod %s/%s: %s" % (namespace, name, handshake_error(error)),
        )
    stdout, stderr = [], []
    try:
        while response.is_open() and time.monotonic() < deadline:
            response.update(timeout=min(1.0, max(deadline - time.monotonic(), 0.0)))
            if response.peek_stdout():
                stdout.append(response.read_stdout())
            if response.peek_stderr():
                stderr.append(response.read_stderr())
        if response.is_open():
            return command_result(
                spec,
                "".join(stdout),
                "".join(stderr),
                container=container,
                error="timed out after %s s" % timeout,
            )
        stdout.append(response.read_stdout())
        stderr.append(response.read_stderr())
        rc, error = exit_status(response.read_channel(STATUS_CHANNEL))
    except Exception as broken:  # the connection broke while reading
        rc, error = None, "Failed to read the output: %s" % to_native(broken)
    finally:
        _close(response)
    return command_result(
        spec, "".join(stdout), "".join(stderr), rc=rc, error=error, container=container
    )


def handshake_error(error):
    """The cause of a failed exec handshake, without the answer's headers."""
    reason = getattr(error, "reason", None) or to_native(error)
    # websocket-client's handshake error carries the answer's headers and body: keep the body.
    parts = to_text(reason).split(" -+-+- ")
    if len(parts) == 3:
        return "%s: %s" % (parts[0], parts[2].strip())
    return to_text(reason)


def run_concurrently(specs, run, workers, timeout):
    """``run(spec, state)`` for every spec on ``workers`` daemon threads; results in spec order.

    ``state`` is a dict private to the worker thread (for its own client). A command still
    running ``GRACE`` seconds past its timeout is given up (a timeout result) and its worker
    replaced, so one hung connection never holds the others back. A ``run`` that raises gives
    that command a failure result.
    """
    results = [None] * len(specs)
    started = {}
    lock = threading.Lock()
    queue = list(range(len(specs)))
    queue.reverse()
    done = threading.Event()

    def settle(index, result):
        with lock:
            if results[index] is None:
                results[index] = result
            if all(r is not None for r in results):
                done.set()

    def worker():
        state = {}
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    index = queue.pop()
                    started[index] = time.monotonic()
                try:
                    result = run(specs[index], state)
                except Exception as error:  # a bug must not cost the other commands' results
                    result = command_result(specs[index], error=to_native(error))
                settle(index, result)
                with lock:
                    if results[index] is not result:
                        return  # given up meanwhile: a replacement worker took over
        finally:
            closer = state.get("close")
            if closer:
                closer()

    def start_worker():
        thread = threading.Thread(target=worker, name="k8s-exec", daemon=True)
        thread.start()

    if not specs:
        return []
    for _worker in range(max(1, min(workers, len(specs)))):
        start_worker()
    while not done.wait(0.2):
        now = time.monotonic()
        with lock:
            overdue = [
                i
                for i, began in started.items()
                if results[i] is None and now - began > timeout + GRACE
            ]
        for index in overdue:
            settle(index, command_result(specs[index], error="timed out after %s s" % timeout))
            start_worker()
    return results


def run_commands(client, specs, workers=4, timeout=60.0):
    """Every command of ``specs``, at most ``workers`` at a time, each within ``timeout`` s."""
    from kubernetes.client import ApiClient, CoreV1Api  # noqa: PLC0415  (a heavy import)

    configuration = client.configuration
    shared_headers = dict(client.api_client.default_headers)

    def run(spec, state):
        if "api" not in state:
            api_client = ApiClient(configuration)
            for header, value in shared_headers.items():
                api_client.set_default_header(header, value)
            state["api"] = CoreV1Api(api_client)
            state["close"] = api_client.close
        return exec_command(client, state["api"], spec, timeout)

    return run_concurrently(specs, run, workers, timeout)
