"""`runbook sandbox` tells a busy server from a stopped one."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sre_runbooks_sandbox import control


class _Handler(BaseHTTPRequestHandler):
    delay = 0.0
    status = 200

    def do_GET(self) -> None:
        time.sleep(type(self).delay)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        del args


@pytest.fixture
def server() -> Iterator[tuple[str, type[_Handler]]]:
    handler = type("Handler", (_Handler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/ready", handler
    httpd.shutdown()
    httpd.server_close()


def test_a_server_that_answers_is_up(server: tuple[str, type[_Handler]]) -> None:
    url, _handler = server
    assert control._answers(url)


def test_a_busy_server_is_up_not_stopped(server: tuple[str, type[_Handler]]) -> None:
    """On a loaded machine the answer comes late; the server still runs."""
    url, handler = server
    handler.delay = 1.5
    assert control._answers(url)


def test_an_error_answer_or_a_closed_port_is_down(server: tuple[str, type[_Handler]]) -> None:
    url, handler = server
    handler.status = 503
    assert not control._answers(url)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not control._answers(f"http://127.0.0.1:{port}/ready")
