"""An HTTP endpoint serving Prometheus exposition text that the caller sets at any time."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MetricsTarget:
    """Serve ``text`` at ``/metrics`` on 127.0.0.1 until ``close()``.

    ``set()`` replaces the whole exposition; the next scrape sees it.
    """

    def __init__(self, text: str = "") -> None:
        self._text = text
        self._lock = threading.Lock()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?", 1)[0] != "/metrics":
                    self.send_error(404)
                    return
                body = target.text.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                """Scrapes are not worth a log line each."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def text(self) -> str:
        with self._lock:
            return self._text

    def set(self, text: str) -> None:
        with self._lock:
            self._text = text

    @property
    def address(self) -> str:
        """``host:port`` as a Prometheus static target."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "MetricsTarget":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
