"""pods/exec over WebSockets: kubectl exec (v5.channel.k8s.io) and the Python client (v4)."""

from __future__ import annotations

import base64
import json
import os
import socket

import pytest
from fake_workloads import DF_OUTPUT
from sandbox_helpers import kubectl, running_pod, server_url

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def pod(workloads_kubeconfig: str, workloads_namespace: str) -> str:
    """The namespace, with a running one-container pod `shell` in it."""
    running_pod(workloads_kubeconfig, workloads_namespace, "shell")
    return workloads_namespace


def test_kubectl_exec_prints_stdout(workloads_kubeconfig: str, pod: str) -> None:
    result = kubectl(workloads_kubeconfig, "exec", "shell", "-n", pod, "--", "df", "-h")
    assert result.stdout == DF_OUTPUT


def test_kubectl_exec_exits_with_the_command_exit_code(workloads_kubeconfig: str, pod: str) -> None:
    result = kubectl(
        workloads_kubeconfig, "exec", "shell", "-n", pod, "--", "sh", "-c", "exit 3", check=False
    )
    assert result.returncode == 3
    assert "command terminated with exit code 3" in result.stderr
    failed = kubectl(
        workloads_kubeconfig, "exec", "shell", "-n", pod, "--", "cat", "/nope", check=False
    )
    assert failed.returncode == 1
    assert "cat: /nope: No such file or directory" in failed.stderr


def test_kubectl_exec_into_a_missing_pod(workloads_kubeconfig: str, pod: str) -> None:
    result = kubectl(workloads_kubeconfig, "exec", "ghost", "-n", pod, "--", "ls", check=False)
    assert result.returncode != 0
    assert 'pods "ghost" not found' in result.stderr


def test_python_client_stream(workloads_client: object, pod: str) -> None:
    from kubernetes import client  # noqa: PLC0415  (heavy import)
    from kubernetes.stream import stream  # noqa: PLC0415

    core = client.CoreV1Api(workloads_client)

    def run(command: list[str]) -> tuple[str, int]:
        # With _preload_content (the default) the client never closes the socket: after the
        # server's close frame websocket-client thinks it is closed already and close() does
        # nothing, hence the ResourceWarning. Ask for the client and shut it down ourselves.
        response = stream(
            core.connect_get_namespaced_pod_exec,
            "shell",
            pod,
            command=command,
            stderr=True,
            stdin=False,
            stdout=True,
            tty=False,
            _preload_content=False,
        )
        try:
            response.run_forever(timeout=10)
            code = response.returncode  # before read_all(), which drains every channel
            return response.read_all(), code
        finally:
            response.close()
            response.sock.shutdown()

    assert run(["df", "-h"]) == (DF_OUTPUT, 0)
    assert run(["sh", "-c", "exit 4"]) == ("", 4)


def _upgrade(kubeconfig: str, path: str) -> bytes:
    """Send a WebSocket upgrade request by hand; the raw answer's head."""
    host, port = server_url(kubeconfig).removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: Upgrade\r\n"
        f"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
        "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request.encode())
        data = b""
        while b"\r\n\r\n" not in data or (data.startswith(b"HTTP/1.1 4") and b"}" not in data):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def test_exec_errors_are_status_objects(workloads_kubeconfig: str, pod: str) -> None:
    base = f"/api/v1/namespaces/{pod}/pods"
    answer = _upgrade(workloads_kubeconfig, f"{base}/shell/exec?command=ls&container=nope")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400")
    assert json.loads(body)["message"] == "container nope is not valid for pod shell"
    answer = _upgrade(workloads_kubeconfig, f"{base}/ghost/exec?command=ls")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 404")
    assert json.loads(body)["reason"] == "NotFound"
    answer = _upgrade(workloads_kubeconfig, f"{base}/shell/exec?command=ls")
    assert answer.startswith(b"HTTP/1.1 101")
    assert b"Sec-WebSocket-Protocol: v4.channel.k8s.io" in answer


def test_websocket_frames_round_trip() -> None:
    """Server frames, a masked client frame, and the handshake key of RFC 6455's example."""
    import io  # noqa: PLC0415  (only this test)

    from sre_runbooks_sandbox.apiserver import websocket  # noqa: PLC0415

    assert websocket.accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert websocket.negotiate(["v4.channel.k8s.io", "v5.channel.k8s.io"]) == "v4.channel.k8s.io"
    big = b"x" * 70000
    stream = io.BytesIO(websocket.channel_message(websocket.STDOUT, big))
    assert websocket.read_frame(stream) == (websocket.OP_BINARY, b"\x01" + big)
    mask = b"\x01\x02\x03\x04"
    payload = b"\x00hello"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    client_frame = bytes([0x82, 0x80 | len(payload)]) + mask + masked
    assert websocket.read_frame(io.BytesIO(client_frame)) == (websocket.OP_BINARY, payload)
