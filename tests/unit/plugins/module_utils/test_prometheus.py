"""Pure functions and the client of module_utils/prometheus.py.

Parsing, thresholds and time handling are called directly; the client talks to a stub HTTP
server on loopback (the integration tests use the real Prometheus).
"""

import datetime
import json
import math
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusClient,
    PrometheusInputError,
    PrometheusResponseError,
    apply_threshold,
    breaches,
    format_seconds,
    lookup_value,
    parse_data,
    parse_duration,
    parse_response,
    parse_time,
    query_module_result,
    single_value,
)

NOW = 1_714_564_800.0  # 2024-05-01T12:00:00Z


def vector(*samples: tuple[dict[str, str], str]) -> dict[str, Any]:
    return {
        "resultType": "vector",
        "result": [{"metric": labels, "value": [NOW, value]} for labels, value in samples],
    }


def success(data: dict[str, Any], warnings: list[str] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    return body


# Parsing ----------------------------------------------------------------------------------------


def test_vector_values_are_floats_and_non_finite_values_are_prometheus_strings():
    result_type, results = parse_data(
        vector(
            ({"pod": "a"}, "1.5"),
            ({"pod": "b"}, "NaN"),
            ({"pod": "c"}, "+Inf"),
            ({"pod": "d"}, "-Inf"),
            ({"pod": "e"}, "1e-09"),
        )
    )
    assert result_type == "vector"
    assert results == [
        {"labels": {"pod": "a"}, "value": 1.5},
        {"labels": {"pod": "b"}, "value": "NaN"},
        {"labels": {"pod": "c"}, "value": "+Inf"},
        {"labels": {"pod": "d"}, "value": "-Inf"},
        {"labels": {"pod": "e"}, "value": 1e-09},
    ]
    # Strict JSON (no NaN literal) accepts the results, and float() reads every value back.
    json.dumps(results, allow_nan=False)
    assert [float(s["value"]) for s in results][2:4] == [math.inf, -math.inf]
    assert math.isnan(float(results[1]["value"]))


def test_empty_vector_is_an_empty_list_with_no_single_value():
    assert parse_data(vector()) == ("vector", [])
    assert parse_data({"resultType": "vector", "result": None}) == ("vector", [])
    assert single_value([]) is None


def test_scalar_is_one_series_without_labels():
    assert parse_data({"resultType": "scalar", "result": [NOW, "2.5"]}) == (
        "scalar",
        [{"labels": {}, "value": 2.5}],
    )
    assert parse_data({"resultType": "scalar", "result": [NOW, "NaN"]})[1][0]["value"] == "NaN"


def test_string_result_value_is_the_string_itself():
    assert parse_data({"resultType": "string", "result": [NOW, "NaN"]}) == (
        "string",
        [{"labels": {}, "value": "NaN"}],
    )


def test_matrix_keeps_every_point_and_its_single_value_is_the_last_point():
    data = {
        "resultType": "matrix",
        "result": [
            {"metric": {"job": "api"}, "values": [[NOW, "1"], [NOW + 60, "+Inf"], [NOW + 120, "3"]]}
        ],
    }
    result_type, results = parse_data(data)
    assert result_type == "matrix"
    assert results == [
        {"labels": {"job": "api"}, "values": [[NOW, 1.0], [NOW + 60, "+Inf"], [NOW + 120, 3.0]]}
    ]
    assert single_value(results) == 3.0


def test_several_series_have_no_single_value():
    assert single_value(parse_data(vector(({"a": "1"}, "1"), ({"a": "2"}, "2")))[1]) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"resultType": "histogram", "result": []}, "unknown resultType 'histogram'"),
        (
            {"resultType": "vector", "result": [{"metric": {}, "histogram": [NOW, {}]}]},
            "native histogram samples are not supported",
        ),
        (vector(({}, "many")), "the sample value 'many' is not a number"),
        (None, "no data object"),
    ],
)
def test_answers_this_collection_cannot_read_are_named(data, message):
    with pytest.raises(PrometheusResponseError, match=message):
        parse_data(data)


def test_response_carries_prometheus_warnings_and_refuses_non_success():
    parsed = parse_response(success(vector(({}, "1")), warnings=["partial response"]))
    assert parsed == {
        "result_type": "vector",
        "results": [{"labels": {}, "value": 1.0}],
        "warnings": ["partial response"],
    }
    with pytest.raises(PrometheusResponseError, match="not a successful query result"):
        parse_response({"status": "error", "errorType": "bad_data", "error": "x"})


def test_lookup_value_is_a_float_for_one_series_and_a_list_otherwise():
    def answer(result_type: str, results: list[dict[str, Any]]) -> dict[str, Any]:
        return {"result_type": result_type, "results": results}

    one = [{"labels": {"job": "api"}, "value": 3.0}]
    two = [*one, {"labels": {"job": "db"}, "value": "NaN"}]
    assert lookup_value(answer("vector", one)) == 3.0
    assert lookup_value(answer("scalar", [{"labels": {}, "value": "+Inf"}])) == "+Inf"
    assert lookup_value(answer("string", [{"labels": {}, "value": "hello"}])) == "hello"
    assert lookup_value(answer("vector", [])) == []
    assert lookup_value(answer("vector", two)) == two
    ranged = [{"labels": {}, "values": [[NOW, 1.0]]}]
    assert lookup_value(answer("matrix", ranged)) == ranged


# Thresholds -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "op", "threshold", "expected"),
    [
        (5.0, ">", 4, True),
        (4.0, ">", 4, False),
        (4.0, ">=", 4, True),
        (3.0, "<", 4, True),
        (4.0, "<=", 4, True),
        (4.0, "==", 4, True),
        (4.0, "!=", 4, False),
        (5.0, "!=", 4, True),
        ("+Inf", ">", 1e300, True),
        ("-Inf", "<", -1e300, True),
        ("+Inf", "<", 0, False),
    ],
)
def test_threshold_operators(value, op, threshold, expected):
    assert breaches(value, threshold, op) is expected


@pytest.mark.parametrize("op", [">", ">=", "<", "<=", "==", "!="])
def test_nan_never_breaches_whatever_the_operator(op):
    assert breaches("NaN", 0, op) is False
    assert breaches(None, 0, op) is False


def test_unknown_operator_is_refused_with_the_accepted_ones():
    with pytest.raises(PrometheusInputError, match=r"op: '=>' is not one of >, >=, <, <=, ==, !="):
        breaches(1.0, 0, "=>")
    with pytest.raises(PrometheusInputError, match="op: '~'"):
        apply_threshold("vector", [], 1, "~")


def test_threshold_marks_each_series_and_any_breach_is_overall():
    results = parse_data(vector(({"pod": "a"}, "0.5"), ({"pod": "b"}, "NaN"), ({"pod": "c"}, "2")))[
        1
    ]
    assert apply_threshold("vector", results, 1.0, ">") is True
    assert [s["breached"] for s in results] == [False, False, True]
    assert apply_threshold("vector", results, 10.0, ">") is False
    assert apply_threshold("vector", [], 10.0, ">") is False


def test_threshold_of_a_range_uses_each_series_last_value():
    _, results = parse_data(
        {
            "resultType": "matrix",
            "result": [
                {"metric": {"pod": "a"}, "values": [[NOW, "100"], [NOW + 60, "1"]]},
                {"metric": {"pod": "b"}, "values": [[NOW, "1"], [NOW + 60, "100"]]},
            ],
        }
    )
    assert apply_threshold("matrix", results, 50, ">") is True
    assert [s["breached"] for s in results] == [False, True]


def test_threshold_refuses_string_results_and_nan_thresholds():
    with pytest.raises(PrometheusInputError, match="returned a string"):
        apply_threshold("string", [{"labels": {}, "value": "x"}], 1.0)
    with pytest.raises(PrometheusInputError, match="threshold: give a number"):
        apply_threshold("vector", [], math.nan)


# Times and durations ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1714564800, NOW),
        (1714564800.25, NOW + 0.25),
        ("1714564800", NOW),
        (" 1714564800.5 ", NOW + 0.5),
        ("2024-05-01T12:00:00Z", NOW),
        ("2024-05-01t12:00:00z", NOW),
        ("2024-05-01 12:00:00Z", NOW),
        ("2024-05-01T12:00:00.125Z", NOW + 0.125),
        ("2024-05-01T14:00:00+02:00", NOW),
        ("2024-05-01T09:30:00-02:30", NOW),
        ("now", NOW),
        ("NOW", NOW),
        ("now-5m", NOW - 300),
        ("now - 5m", NOW - 300),
        ("-5m", NOW - 300),
        ("-1h30m", NOW - 5400),
        ("now+1h", NOW + 3600),
        ("-500ms", NOW - 0.5),
        ("-300", -300.0),  # a bare number is unix seconds, even negative
        (datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC), NOW),
    ],
)
def test_times_accepted(value, expected):
    assert parse_time(value, now=NOW) == pytest.approx(expected)


def test_relative_times_use_the_local_clock_when_no_now_is_given(monkeypatch):
    monkeypatch.setattr("time.time", lambda: NOW)
    assert parse_time("now-1m") == NOW - 60
    assert parse_time(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2024-05-01T12:00:00",  # no time zone
        "2024-05-01",
        "now-5",  # a relative time needs a unit
        "now-5x",
        "now5m",
        "",
        True,
        "nan",
        float("inf"),
    ],
)
def test_times_refused_with_the_accepted_forms(value):
    with pytest.raises(PrometheusInputError, match=r"start: .* is not a time; give unix seconds"):
        parse_time(value, now=NOW, option="start")


def test_impossible_dates_and_naive_datetimes_are_refused():
    with pytest.raises(PrometheusInputError, match="is not a valid date and time"):
        parse_time("2024-02-30T00:00:00Z")
    with pytest.raises(PrometheusInputError, match="has no time zone"):
        parse_time(datetime.datetime(2024, 5, 1, 12))  # a naive datetime


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (30, 30.0),
        (0.5, 0.5),
        ("30", 30.0),
        ("1.5", 1.5),
        ("30s", 30.0),
        ("1m", 60.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        ("1m500ms", 60.5),
        ("2d", 172800.0),
        ("1w", 604800.0),
        ("1y", 31536000.0),
    ],
)
def test_durations_accepted(value, expected):
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["0", 0, "-5", "abc", "1m1h", "", "5 m", True, None, "inf"])
def test_durations_refused(value):
    with pytest.raises(PrometheusInputError, match=r"^step: "):
        parse_duration(value)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(60.0, "60"), (1.5, "1.5"), (1714564800.125, "1714564800.125"), (0.0001, "0"), (None, None)],
)
def test_seconds_are_sent_with_millisecond_precision(seconds, text):
    assert format_seconds(seconds) == text


# The client against a stub server ---------------------------------------------------------------


class StubPrometheus:
    """Answers POSTs with ``answer(path, form)`` -> (status, body) and records every request."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.answer: Callable[[str, dict[str, str]], tuple[int, Any]] = lambda path, form: (
            200,
            success(vector(({"job": "api"}, "1"))),
        )
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {key: values[0] for key, values in parse_qs(raw).items()}
                stub.requests.append(
                    {"path": self.path, "form": form, "headers": dict(self.headers)}
                )
                status, body = stub.answer(self.path, form)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
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
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def client(self, **options: Any) -> PrometheusClient:
        options.setdefault("sleep", lambda seconds: None)
        return PrometheusClient(self.url, **options)


@pytest.fixture
def stub() -> Iterator[StubPrometheus]:
    server = StubPrometheus()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()
    server.thread.join()


def test_instant_query_is_a_form_encoded_post_with_time_and_evaluation_timeout(stub):
    client = stub.client(token="s3cret")  # noqa: S106  (a fake token the stub echoes)
    answer = client.query('sum(rate(x{job="api"}[5m]))', time="2024-05-01T12:00:00Z", timeout="30s")
    assert answer["results"] == [{"labels": {"job": "api"}, "value": 1.0}]
    (request,) = stub.requests
    assert request["path"] == "/api/v1/query"
    assert request["form"] == {
        "query": 'sum(rate(x{job="api"}[5m]))',
        "time": "1714564800",
        "timeout": "30",
    }
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert request["headers"]["Authorization"] == "Bearer s3cret"


def test_range_query_posts_start_end_and_step_in_seconds(stub):
    stub.answer = lambda path, form: (
        200,
        success({"resultType": "matrix", "result": [{"metric": {}, "values": [[NOW, "1"]]}]}),
    )
    answer = stub.client().query_range(
        "up", start=NOW - 3600, end="2024-05-01T12:00:00Z", step="1m"
    )
    assert answer["results"] == [{"labels": {}, "values": [[NOW, 1.0]]}]
    (request,) = stub.requests
    assert request["path"] == "/api/v1/query_range"
    assert request["form"] == {
        "query": "up",
        "start": "1714561200",
        "end": "1714564800",
        "step": "60",
    }


def test_prometheus_error_names_the_query_url_status_and_prometheus_message(stub):
    stub.answer = lambda path, form: (
        400,
        {
            "status": "error",
            "errorType": "bad_data",
            "error": "1:5: parse error: unclosed left parenthesis",
        },
    )
    with pytest.raises(APIError) as failure:
        stub.client().query("sum((")
    assert str(failure.value) == (
        f"Failed to run query 'sum((': {stub.url}/api/v1/query answered HTTP 400: "
        "bad_data: 1:5: parse error: unclosed left parenthesis"
    )
    assert failure.value.status == 400
    assert len(stub.requests) == 1  # a 400 is not retried


def test_query_is_retried_after_503_and_fails_with_it_when_retries_run_out(stub):
    calls = []

    def flaky(path: str, form: dict[str, str]) -> tuple[int, Any]:
        calls.append(path)
        if len(calls) == 1:
            return 503, b"overloaded"
        return 200, success(vector(({}, "7")))

    stub.answer = flaky
    assert stub.client(retries=1).query("up")["results"][0]["value"] == 7.0
    assert len(stub.requests) == 2

    stub.answer = lambda path, form: (503, b"overloaded")
    with pytest.raises(APIError, match=r"answered HTTP 503: overloaded$"):
        stub.client(retries=0).query("up")
    assert len(stub.requests) == 3


def test_answer_that_is_not_a_query_result_fails_with_the_query_named(stub):
    stub.answer = lambda path, form: (200, {"status": "success", "data": {"resultType": "nope"}})
    with pytest.raises(
        APIError, match=r"^Failed to run query 'up': .*/api/v1/query: unknown resultType"
    ):
        stub.client().query("up")


def test_unreachable_server_fails_with_the_service_named():
    with pytest.raises(APIError) as failure:
        PrometheusClient("http://127.0.0.1:9", retries=0, timeout=2).query("up")
    assert str(failure.value).startswith(
        "Failed to run query 'up': http://127.0.0.1:9/api/v1/query: Prometheus unreachable: "
    )


def test_run_queries_runs_concurrently_and_returns_results_by_name(stub):
    barrier = threading.Barrier(3, timeout=5)

    def together(path: str, form: dict[str, str]) -> tuple[int, Any]:
        barrier.wait()  # breaks (and the test fails) unless all three requests are in flight
        return 200, success(vector(({"q": form["query"]}, str(len(form["query"])))))

    stub.answer = together
    answers = stub.client().run_queries({"a": "x", "b": "yy", "c": "zzz"}, time="now-5m")
    assert {name: a["results"] for name, a in answers.items()} == {
        "a": [{"labels": {"q": "x"}, "value": 1.0}],
        "b": [{"labels": {"q": "yy"}, "value": 2.0}],
        "c": [{"labels": {"q": "zzz"}, "value": 3.0}],
    }
    # "now-5m" was resolved once: every query asked for the same instant.
    assert len({r["form"]["time"] for r in stub.requests}) == 1


def test_run_queries_failure_names_the_query_and_its_expression(stub):
    def one_bad(path: str, form: dict[str, str]) -> tuple[int, Any]:
        if form["query"] == "sum((":
            return 400, {"status": "error", "errorType": "bad_data", "error": "parse error"}
        return 200, success(vector(({}, "1")))

    stub.answer = one_bad
    with pytest.raises(
        APIError, match=r"^Failed to run query broken='sum\(\(': .*bad_data: parse error"
    ):
        stub.client().run_queries({"fine": "up", "broken": "sum(("})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "now-1h", "end": "now"}, "a range query needs all three"),
        ({"time": "now", "start": "now-1h", "end": "now", "step": 60}, "give either time"),
        ({"step": "fast", "start": 1, "end": 2}, "step: 'fast' is neither seconds"),
        ({"timeout": "soon"}, "query_timeout: 'soon'"),
    ],
)
def test_inconsistent_query_options_fail_before_any_request(stub, options, message):
    with pytest.raises(PrometheusInputError, match=message):
        stub.client().evaluate("up", **options)
    assert stub.requests == []


def test_empty_queries_and_expressions_are_refused(stub):
    with pytest.raises(PrometheusInputError, match="queries: give at least one"):
        stub.client().run_queries({})
    with pytest.raises(PrometheusInputError, match="queries: errors: give a PromQL expression"):
        stub.client().run_queries({"errors": " "})
    with pytest.raises(PrometheusInputError, match="query: give a PromQL expression"):
        stub.client().query(None)


def test_module_result_for_one_query_has_value_threshold_and_warnings(stub):
    stub.answer = lambda path, form: (
        200,
        success(vector(({"pod": "a"}, "0.5"), ({"pod": "b"}, "NaN")), warnings=["partial"]),
    )
    result, warnings = query_module_result(
        stub.client(), {"query": "errors", "threshold": 0.1, "op": ">"}
    )
    assert result == {
        "result_type": "vector",
        "results": [
            {"labels": {"pod": "a"}, "value": 0.5, "breached": True},
            {"labels": {"pod": "b"}, "value": "NaN", "breached": False},
        ],
        "value": None,
        "breached": True,
    }
    assert warnings == ["Prometheus warned about query 'errors': partial"]


def test_module_result_for_named_queries_has_values_by_name(stub):
    stub.answer = lambda path, form: (
        200,
        success(vector(({}, "2"))) if form["query"] == "one" else success(vector()),
    )
    result, warnings = query_module_result(
        stub.client(), {"queries": {"one": "one", "none": "none"}, "threshold": 1, "op": "<"}
    )
    assert result == {
        "results": {"one": [{"labels": {}, "value": 2.0, "breached": False}], "none": []},
        "query_values": {"one": 2.0, "none": None},
        "breached": False,
    }
    assert warnings == []
