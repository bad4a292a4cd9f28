"""The subresources that reach inside pods: pods/log, pods/exec, pods/proxy and services/proxy.

A real API server forwards these to the kubelet and the container runtime; here the cluster's
`Workloads` answers them. The checks in front (the pod exists, the container is named and valid,
the container is running, the Service has a ready endpoint) and their error messages are the real
server's, since kubectl shows those to users verbatim.

`PodAccess` is a mixin of the HTTP request handler (`http.ApiRequestHandler`).

Following logs (``follow=true``) streams the current lines, then whatever the workload appends,
and ends after `FOLLOW_IDLE` seconds without a new line (or when the pod goes away): simulated
applications rarely log on their own, and a stream that never ended would hang ``kubectl logs -f``
in scripts and tests.
"""

from __future__ import annotations

import json
import logging
import socket
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from ..behaviour import ExecResult
from . import errors, websocket

if TYPE_CHECKING:
    from .api import Cluster

_log = logging.getLogger(__name__)

FOLLOW_IDLE = 2.0
FOLLOW_POLL = 0.2
# How long exec waits before sending output, so that the client has set up its streams: client-go
# starts reading the connection while it is still creating them and drops early messages.
EXEC_SETTLE = 0.1
# How long to wait for the client's half of the closing handshake.
CLOSE_WAIT = 2.0
_HOP_HEADERS = {"connection", "content-length", "transfer-encoding", "keep-alive", "upgrade"}
_WAITING = {
    "ContainerCreating": "ContainerCreating",
    "ErrImagePull": "image can't be pulled",
    "ImagePullBackOff": "trying and failing to pull image",
}


def _rfc3339_nano(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def split_proxy_name(spec: str) -> tuple[str, str, str]:
    """`name`, `name:port` or `scheme:name:port` (as kubectl and clients write it)."""
    parts = spec.split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return "", spec, ""


def container_port(pod: dict, port: str) -> str:
    """A named container port as its number; numbers (and unknown names) unchanged."""
    for container in pod["spec"].get("containers", []):
        for entry in container.get("ports") or []:
            if entry.get("name") == port:
                return str(entry["containerPort"])
    return port


def choose_container(pod: dict, name: str | None) -> str:
    """The container a log or exec request means, or the real server's 400."""
    pod_name = pod["metadata"]["name"]
    containers = [c["name"] for c in pod["spec"].get("containers", [])]
    init = [c["name"] for c in pod["spec"].get("initContainers") or []]
    if not name:
        if len(containers) == 1:
            return containers[0]
        message = (
            f"a container name must be specified for pod {pod_name}, "
            f"choose one of: [{' '.join(containers)}]"
        )
        if init:
            message += f" or one of the init containers: [{' '.join(init)}]"
        raise errors.bad_request(message)
    if name not in containers and name not in init:
        raise errors.bad_request(f"container {name} is not valid for pod {pod_name}")
    return name


def exit_status(command: list[str], code: int) -> dict:
    """The metav1.Status an exec ends with on the error channel, as the kubelet writes it."""
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    # The inner text is containerd's; Go prints the argv list as [a b c].
    inner = f"error executing command [{' '.join(command)}], exit code {code}"
    return {
        "details": {"causes": [{"message": str(code), "reason": "ExitCode"}]},
        "message": f"command terminated with non-zero exit code: {inner}",
        "metadata": {},
        "reason": "NonZeroExitCode",
        "status": "Failure",
    }


def container_status(pod: dict, name: str) -> dict:
    """The pod's status entry for a container ({} before the kubelet reported it)."""
    for status in pod.get("status", {}).get("containerStatuses") or []:
        if status["name"] == name:
            return status
    return {}


class PodAccess:
    """Handler methods for the subresources that reach inside pods.

    Mixed into `ApiRequestHandler` (before `BaseHTTPRequestHandler`), whose `send_response`,
    `send_header`, `end_headers`, `_query` and attributes these methods use.
    """

    # Provided by the request handler this is mixed into.
    server: Any
    headers: Any
    path: str
    command: str
    connection: socket.socket
    rfile: Any
    wfile: Any
    close_connection: bool
    _raw_body: bytes

    # -- routing ----------------------------------------------------------------------------

    def _pod_access(self, rest: list[str]) -> bool:
        """Serve /api/v1/namespaces/NS/{pods,services}/NAME/{log,exec,proxy}[/...] if it is one."""
        if len(rest) < 5 or rest[0] != "namespaces" or rest[2] not in {"pods", "services"}:
            return False
        ns, kind, name, sub = rest[1], rest[2], unquote(rest[3]), rest[4]
        if sub == "proxy":
            # Keep the path after /proxy exactly as sent, trailing slash and query included.
            # Clients escape the ':' of `svc:port` (the Python client does).
            raw = urlsplit(self.path)
            marker = f"/{rest[3]}/proxy"
            tail = raw.path[raw.path.index(marker) + len(marker) :] or "/"
            target = tail + (f"?{raw.query}" if raw.query else "")
            if kind == "pods":
                self._pod_proxy(ns, name, target)
            else:
                self._service_proxy(ns, name, target)
            return True
        if kind != "pods" or len(rest) != 5 or sub not in {"log", "exec"}:
            return False
        if sub == "log":
            if self.command not in {"GET", "HEAD"}:
                raise errors.method_not_allowed()
            self._pod_log(ns, name, self._query())
        else:
            if self.command not in {"GET", "POST"}:
                raise errors.method_not_allowed()
            self._pod_exec(ns, name)
        return True

    def _pod(self, ns: str, name: str) -> dict:
        cluster: Cluster = self.server.cluster
        return cluster.get(cluster.resource("", "v1", "pods"), ns, name)

    # -- pods/log ---------------------------------------------------------------------------

    def _pod_log(self, ns: str, name: str, query: dict[str, str]) -> None:
        pod = self._pod(ns, name)
        container = choose_container(pod, query.get("container"))
        status = container_status(pod, container)
        previous = query.get("previous") in {"true", "1"}
        waiting = (status.get("state") or {"waiting": {}}).get("waiting")
        if previous and not status.get("restartCount"):
            raise errors.bad_request(
                f'previous terminated container "{container}" in pod "{name}" not found'
            )
        if not previous and waiting is not None and not status.get("restartCount"):
            reason = _WAITING.get(waiting.get("reason", ""), waiting.get("reason", ""))
            raise errors.bad_request(
                f'container "{container}" in pod "{name}" is waiting to start: '
                f"{reason or 'ContainerCreating'}"
            )
        workloads = self.server.cluster.workloads
        lines = list(workloads.logs(pod, container, previous=previous))
        stamped = self._stamp(pod, status, lines, previous=previous)
        if "sinceSeconds" in query or "sinceTime" in query:
            since = datetime.now(UTC) - timedelta(seconds=int(query.get("sinceSeconds") or 0))
            if query.get("sinceTime"):
                since = _parse_time(query["sinceTime"])
            stamped = [(t, line) for t, line in stamped if t >= since]
        if query.get("tailLines"):
            tail = int(query["tailLines"])
            stamped = stamped[-tail:] if tail > 0 else []
        with_times = query.get("timestamps") in {"true", "1"}

        def render(entries: list[tuple[datetime, str]]) -> bytes:
            text = "".join(
                (f"{_rfc3339_nano(t)} " if with_times else "") + line.rstrip("\n") + "\n"
                for t, line in entries
            )
            return text.encode()

        body = render(stamped)
        if query.get("limitBytes"):
            body = body[: int(query["limitBytes"])]
        if query.get("follow") not in {"true", "1"} or previous:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
            return
        self._follow_log(ns, name, container, first=body, sent=len(lines), render=render)

    def _stamp(
        self, pod: dict, status: dict, lines: list[str], *, previous: bool
    ) -> list[tuple[datetime, str]]:
        """Give lines times spread over the container's run (the workloads keep none)."""
        end = datetime.now(UTC)
        state = (status.get("lastState") if previous else status.get("state")) or {}
        run = next(iter(state.values()), {}) if state else {}
        begin_text = run.get("startedAt") or pod["status"].get("startTime")
        begin = _parse_time(begin_text) if begin_text else end
        if previous and run.get("finishedAt"):
            end = _parse_time(run["finishedAt"])
        step = (end - begin) / max(len(lines), 1)
        return [(begin + step * (i + 1), line) for i, line in enumerate(lines)]

    def _follow_log(
        self, ns: str, name: str, container: str, *, first: bytes, sent: int, render: Any
    ) -> None:
        """Stream the lines so far, then new ones, until the log has been idle for a while."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        cluster: Cluster = self.server.cluster
        pods = cluster.resource("", "v1", "pods")
        try:
            self._log_chunk(first)
            idle_since = time.monotonic()
            while time.monotonic() - idle_since < FOLLOW_IDLE and not self.server.stopping.is_set():
                time.sleep(FOLLOW_POLL)
                pod = cluster.store.get(pods.storage_key, ns, name)
                if pod is None or pod["metadata"].get("deletionTimestamp"):
                    break
                lines = list(cluster.workloads.logs(pod, container))
                if len(lines) > sent:
                    stamp = datetime.now(UTC)
                    self._log_chunk(render([(stamp, line) for line in lines[sent:]]))
                    sent = len(lines)
                    idle_since = time.monotonic()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True

    def _log_chunk(self, data: bytes) -> None:
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

    # -- pods/exec --------------------------------------------------------------------------

    def _pod_exec(self, ns: str, name: str) -> None:
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        pod = self._pod(ns, name)
        container = choose_container(pod, (query.get("container") or [""])[-1])
        command = query.get("command") or []
        if not command:
            raise errors.bad_request("you must specify at least 1 command")
        state = container_status(pod, container).get("state") or {}
        if "running" not in state:
            raise errors.bad_request(f'container not found ("{container}")')
        if (self.headers.get("Upgrade") or "").lower() != "websocket":
            # Real servers also speak SPDY; kubectl tries WebSockets first and needs no SPDY.
            raise errors.bad_request("Upgrade request required")

        def flag(key: str, default: bool) -> bool:
            values = query.get(key)
            return default if not values else values[-1] in {"true", "1"}

        offered = [
            p.strip()
            for header in self.headers.get_all("Sec-WebSocket-Protocol") or []
            for p in header.split(",")
        ]
        protocol = websocket.negotiate(offered)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header(
            "Sec-WebSocket-Accept", websocket.accept_key(self.headers["Sec-WebSocket-Key"] or "")
        )
        if protocol:
            self.send_header("Sec-WebSocket-Protocol", protocol)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            result = self.server.cluster.workloads.exec(pod, container, command)
        except Exception as exc:
            # The connection is a WebSocket now: a failure must travel as a Status on channel 3.
            _log.exception("sandbox workloads failed to exec %s", command)
            result = ExecResult(stderr=f"sandbox: exec failed: {exc}\n", exit_code=126)
        stdout, stderr = result.stdout, result.stderr
        if flag("tty", default=False):
            # A terminal has one output stream.
            stdout, stderr = stdout + stderr, ""
        time.sleep(EXEC_SETTLE)
        try:
            if stdout and flag("stdout", default=True):
                self.wfile.write(websocket.channel_message(websocket.STDOUT, stdout.encode()))
            if stderr and flag("stderr", default=True):
                self.wfile.write(websocket.channel_message(websocket.STDERR, stderr.encode()))
            status = exit_status(command, result.exit_code)
            self.wfile.write(
                websocket.channel_message(websocket.ERROR, json.dumps(status).encode())
            )
            self.wfile.write(websocket.close_message())
            self.wfile.flush()
            self._await_close()
        except OSError:
            pass  # the client went away; nothing more to say

    def _await_close(self) -> None:
        """Read what the client still sends (stdin, pings) until its close frame."""
        self.connection.settimeout(CLOSE_WAIT)
        try:
            while True:
                opcode, payload = websocket.read_frame(self.rfile)
                if opcode == websocket.OP_CLOSE:
                    return
                if opcode == websocket.OP_PING:
                    self.wfile.write(websocket.frame(websocket.OP_PONG, payload))
        except (EOFError, TimeoutError, OSError, ValueError):
            return

    # -- proxy ------------------------------------------------------------------------------

    def _forward(self, pod: dict, port: str, target: str) -> None:
        """Send the request to a pod's port through the workloads, and pass the answer on."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_HEADERS}
        answer = self.server.cluster.workloads.http(
            pod, port, self.command, target, headers=headers, body=self._raw_body
        )
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            if key.lower() not in _HOP_HEADERS:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    def _pod_proxy(self, ns: str, spec: str, target: str) -> None:
        _, name, port = split_proxy_name(spec)
        pod = self._pod(ns, name)
        if not pod.get("status", {}).get("podIP"):
            raise errors.ApiError(
                503, "ServiceUnavailable", f"pod {name} does not have an IP address"
            )
        self._forward(pod, container_port(pod, port) if port else "80", target)

    def _service_proxy(self, ns: str, spec: str, target: str) -> None:
        cluster: Cluster = self.server.cluster
        _, name, port = split_proxy_name(spec)
        svc = cluster.get(cluster.resource("", "v1", "services"), ns, name)
        unavailable = errors.ApiError(
            503, "ServiceUnavailable", f'no endpoints available for service "{name}"'
        )
        ports = svc["spec"].get("ports") or []
        if port.isdigit():
            # A port number means the service port with that number; endpoints go by name.
            match = next((p for p in ports if str(p.get("port")) == port), None)
            if match is None:
                raise errors.ApiError(
                    503, "ServiceUnavailable", f'no service port {port} found for service "{name}"'
                )
            port = match.get("name", "")
        eps = cluster.get(cluster.resource("", "v1", "endpoints"), ns, name)
        for subset in eps.get("subsets") or []:
            for entry in subset.get("ports") or []:
                if entry.get("name", "") != port:
                    continue
                for address in subset.get("addresses") or []:
                    ref = address.get("targetRef") or {}
                    pod = cluster.store.get(("", "pods"), ns, ref.get("name", ""))
                    if pod is not None:
                        number = str(entry.get("port") or _target_port(ports, port))
                        self._forward(pod, container_port(pod, number), target)
                        return
        raise unavailable


def _target_port(ports: list[dict], name: str) -> object:
    """The targetPort (or port) of the service port called `name`."""
    for entry in ports:
        if entry.get("name", "") == name:
            return entry.get("targetPort") or entry.get("port")
    return ""
