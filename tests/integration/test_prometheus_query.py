"""sre.runbooks.prometheus_query against a real Prometheus with backfilled, exact series."""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.integration

MODULE = "sre.runbooks.prometheus_query"
REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TOKEN = "tok-3f9c1e77-never-shown"  # noqa: S105  (a fake token whose absence the tests check)
MASKED = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"

# Whole minutes, an hour ago: inside the retention, outside the head block's time range.
T0 = (int(time.time()) // 60) * 60 - 3600
T2 = T0 + 120


def _series(name: str, labels: str, values: list[str]) -> list[str]:
    return [f"{name}{{{labels}}} {value} {T0 + 60 * i}" for i, value in enumerate(values)]


SERIES = "\n".join(
    [
        *_series("demo_error_ratio", 'job="api",pod="a"', ["0.01", "0.02", "0.25"]),
        *_series("demo_error_ratio", 'job="api",pod="b"', ["0.5", "0.04", "0.03"]),
        *_series("demo_queue_depth", 'queue="jobs"', ["10", "12.5", "40"]),
        *_series("demo_odd", 'kind="nan"', ["NaN", "NaN", "NaN"]),
        *_series("demo_odd", 'kind="inf"', ["+Inf", "+Inf", "+Inf"]),
    ]
)


@pytest.fixture
def prometheus(prometheus_factory):
    return prometheus_factory(series=SERIES)


class FlakyProxy:
    """Forwards POSTs to Prometheus; answers 503 to the first ``fail_first`` of them.

    Records each request's path and headers; ``warnings`` are added to successful answers.
    """

    def __init__(self, upstream: str, fail_first: int = 0, warnings: list[str] | None = None):
        self.upstream = upstream
        self.fail_first = fail_first
        self.warnings = warnings or []
        self.requests: list[dict[str, Any]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy.requests.append({"path": self.path, "headers": dict(self.headers)})
                if len(proxy.requests) <= proxy.fail_first:
                    status, data = 503, b"upstream overloaded"
                else:
                    status, data = proxy.forward(self.path, body, self.headers["Content-Type"])
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def forward(self, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        request = urllib.request.Request(
            self.upstream + path, data=body, headers={"Content-Type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        if self.warnings:
            answer = json.loads(data)
            answer["warnings"] = self.warnings
            data = json.dumps(answer).encode()
        return status, data

    def __enter__(self) -> "FlakyProxy":
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def proxy_factory(prometheus) -> Iterator[Any]:
    proxies: list[FlakyProxy] = []

    def start(**options: Any) -> FlakyProxy:
        proxy = FlakyProxy(prometheus.url, **options).__enter__()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.__exit__()


def test_instant_query_marks_breaching_series_and_runs_the_same_in_check_mode(
    prometheus, ansible_module
):
    result = ansible_module(
        MODULE,
        {"url": prometheus.url, "query": "demo_error_ratio", "time": T2, "threshold": 0.1},
        check=True,
    )
    assert result["changed"] is False
    assert result["result_type"] == "vector"
    assert sorted(result["results"], key=lambda s: s["labels"]["pod"]) == [
        {
            "labels": {"__name__": "demo_error_ratio", "job": "api", "pod": "a"},
            "value": 0.25,
            "breached": True,
        },
        {
            "labels": {"__name__": "demo_error_ratio", "job": "api", "pod": "b"},
            "value": 0.03,
            "breached": False,
        },
    ]
    assert result["value"] is None  # two series: no single value
    assert result["breached"] is True


def test_single_series_gives_its_value_and_an_unbreached_threshold(prometheus, ansible_module):
    at = datetime.fromtimestamp(T0 + 60, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = ansible_module(
        MODULE,
        {
            "url": prometheus.url,
            "query": 'demo_queue_depth{queue="jobs"}',
            "time": at,
            "threshold": 12.5,
            "op": ">",
            "query_timeout": "10s",
        },
    )
    assert result["changed"] is False
    assert result["value"] == 12.5
    assert result["breached"] is False
    assert result["results"][0]["breached"] is False


def test_range_query_returns_every_backfilled_point(prometheus, ansible_module):
    result = ansible_module(
        MODULE,
        {
            "url": prometheus.url,
            "query": "demo_queue_depth",
            "start": T0,
            "end": T2,
            "step": "1m",
            "threshold": 30,
            "op": ">=",
        },
    )
    assert result["result_type"] == "matrix"
    assert result["results"] == [
        {
            "labels": {"__name__": "demo_queue_depth", "queue": "jobs"},
            "values": [[T0, 10.0], [T0 + 60, 12.5], [T2, 40.0]],
            "breached": True,  # by the last point
        }
    ]
    assert result["value"] == 40.0


def test_named_queries_return_results_and_query_values_by_name(prometheus, ansible_module):
    result = ansible_module(
        MODULE,
        {
            "url": prometheus.url,
            "queries": {
                "worst": "max(demo_error_ratio)",
                "every": "demo_error_ratio",
                "none": "demo_absent_metric",
                "doubled": "scalar(demo_queue_depth) * 2",
                "nan": 'demo_odd{kind="nan"}',
                "inf": 'demo_odd{kind="inf"}',
            },
            "time": T2,
            "threshold": 100,
            "op": "<",
        },
    )
    assert result["changed"] is False
    assert result["query_values"] == {
        "worst": 0.25,
        "every": None,
        "none": None,
        "doubled": 80.0,
        "nan": "NaN",
        "inf": "+Inf",
    }
    results = result["results"]
    assert results["none"] == []
    assert results["doubled"] == [{"labels": {}, "value": 80.0, "breached": True}]
    assert [s["breached"] for s in results["every"]] == [True, True]
    assert results["nan"][0]["breached"] is False  # NaN never breaches
    assert results["inf"][0]["breached"] is False  # +Inf is not < 100
    assert result["breached"] is True


def test_promql_syntax_error_fails_with_prometheus_own_message(prometheus, ansible_module):
    result = ansible_module(MODULE, {"url": prometheus.url, "query": "sum(rate(x[5m]"})
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Failed to run query 'sum(rate(x[5m]': {prometheus.url}/api/v1/query answered HTTP 400: "
        "bad_data: "
    )
    assert "parse error" in result["msg"]
    assert result["status"] == 400


def test_stopped_server_fails_with_an_unreachable_message(prometheus_factory, ansible_module):
    stopped = prometheus_factory()
    url = stopped.url
    stopped.stop()
    result = ansible_module(
        MODULE, {"url": url, "query": "up", "timeout": 5, "retries": 1, "retry_backoff": 0.1}
    )
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Failed to run query 'up': {url}/api/v1/query: Prometheus unreachable: "
    )


def test_read_answered_503_is_retried_and_succeeds(proxy_factory, ansible_module):
    proxy = proxy_factory(fail_first=1)
    result = ansible_module(
        MODULE, {"url": proxy.url, "query": "demo_queue_depth", "time": T2, "retry_backoff": 0.1}
    )
    assert result.get("failed") is not True, result.get("msg")
    assert result["value"] == 40.0
    assert [r["path"] for r in proxy.requests] == ["/api/v1/query", "/api/v1/query"]


def test_without_retries_a_503_fails_with_the_status(proxy_factory, ansible_module):
    proxy = proxy_factory(fail_first=1)
    result = ansible_module(MODULE, {"url": proxy.url, "query": "up", "retries": 0})
    assert result["failed"] is True
    assert result["msg"] == (
        f"Failed to run query 'up': {proxy.url}/api/v1/query answered HTTP 503: upstream overloaded"
    )
    assert len(proxy.requests) == 1


def test_url_and_token_come_from_the_environment_and_the_token_is_masked(
    proxy_factory, ansible_module
):
    proxy = proxy_factory(warnings=["partial response from a store"])
    result = ansible_module(
        MODULE,
        {"query": "demo_queue_depth", "time": T2},
        # ansible-core 2.21 adds the module arguments to results only when asked to.
        env={
            "PROMETHEUS_URL": proxy.url,
            "PROMETHEUS_TOKEN": TOKEN,
            "ANSIBLE_INJECT_INVOCATION": "1",
        },
    )
    assert result["value"] == 40.0
    assert proxy.requests[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert result["invocation"]["module_args"]["url"] == proxy.url
    assert result["invocation"]["module_args"]["token"] == MASKED
    assert TOKEN not in json.dumps(result)
    assert result["warnings"] == [
        "Prometheus warned about query 'demo_queue_depth': partial response from a store"
    ]


def test_token_never_appears_in_verbose_output(prometheus, ansible_cli):
    args = {"url": prometheus.url, "token": TOKEN, "query": "demo_queue_depth", "time": T2}
    completed = ansible_cli(
        "ansible",
        "localhost",
        "-m",
        MODULE,
        "-a",
        json.dumps(args),
        "-vvv",
        env={"ANSIBLE_INJECT_INVOCATION": "1"},
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert MASKED in output  # the invocation was printed, with the token masked
    assert TOKEN not in output
