# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PromQL queries for the prometheus_query module and the promql lookup.

``PrometheusClient`` sends instant and range queries through the shared HTTP layer; the pure
functions below turn Prometheus' answers into normalised, JSON-safe results, parse times and
durations, and evaluate thresholds, so unit tests can call them without a server.

Normalised results: a list of series, ``{"labels": {...}, "value": V}`` for vector, scalar and
string results (scalars and strings have no labels) and ``{"labels": {...}, "values": [[ts, V],
...]}`` for matrix results. A sample value ``V`` is a float when it is finite and one of the
strings ``"NaN"``, ``"+Inf"``, ``"-Inf"`` otherwise (JSON has no literal for them; ``float()``
reads all three back). A string result's value is the string itself.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import datetime
import math
import operator
import re
import time as _time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.sre.runbooks.plugins.module_utils._http import (
    APIClient,
    APIError,
    APIModule,
)

OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}

# Threads of run_queries(): enough for a runbook's handful of queries without flooding Prometheus.
MAX_CONCURRENT_QUERIES = 8

_NUMBER = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
# Prometheus' own duration syntax (units in this order, each at most once), e.g. 1h30m, 90s, 500ms.
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
_DURATION_UNITS = (365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001)
_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_RELATIVE = re.compile(r"^(now)?\s*(?:([+-])\s*([0-9a-z]+))?$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


class PrometheusInputError(ValueError):
    """An option value that cannot be used (a time, a duration, an operator, a query)."""


class PrometheusResponseError(ValueError):
    """An answer whose shape this collection does not understand."""


# Sample values ----------------------------------------------------------------------------------


def json_safe(number):
    """A float as results carry it: finite as-is, NaN and infinities as Prometheus spells them."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    return number


def parse_sample(value):
    """A Prometheus sample value (a string such as "1.5", "NaN", "+Inf") as a JSON-safe value."""
    try:
        return json_safe(float(value))
    except (TypeError, ValueError):
        raise PrometheusResponseError("the sample value %r is not a number" % (value,)) from None


def _series(sample, key="value"):
    if not isinstance(sample, dict) or key not in sample:
        raise PrometheusResponseError(
            "a series has no %r (native histogram samples are not supported): %s"
            % (key, to_text(sample)[:200])
        )
    return dict(sample.get("metric") or {})


def parse_data(data):
    """Normalise the ``data`` of a successful answer; returns ``(result_type, results)``."""
    if not isinstance(data, dict):
        raise PrometheusResponseError("the answer has no data object")
    result_type = data.get("resultType")
    result = data.get("result")
    if result_type == "vector":
        return result_type, [
            {"labels": _series(sample), "value": parse_sample(sample["value"][1])}
            for sample in result or []
        ]
    if result_type == "matrix":
        return result_type, [
            {
                "labels": _series(sample, "values"),
                "values": [[point[0], parse_sample(point[1])] for point in sample["values"] or []],
            }
            for sample in result or []
        ]
    if result_type == "scalar":
        return result_type, [{"labels": {}, "value": parse_sample(result[1])}]
    if result_type == "string":
        return result_type, [{"labels": {}, "value": to_text(result[1])}]
    raise PrometheusResponseError("unknown resultType %r" % (result_type,))


def parse_response(body):
    """Normalise a whole answer body: ``{"result_type", "results", "warnings"}``."""
    if not isinstance(body, dict) or body.get("status") != "success":
        raise PrometheusResponseError(
            "the answer is not a successful query result: %s" % to_text(body)[:200]
        )
    result_type, results = parse_data(body.get("data"))
    return {
        "result_type": result_type,
        "results": results,
        "warnings": [to_text(warning) for warning in body.get("warnings") or []],
    }


def series_value(series):
    """The value of one normalised series: its value, or for a matrix series its last value.

    None when a matrix series has no points.
    """
    if "values" in series:
        return series["values"][-1][1] if series["values"] else None
    return series["value"]


def single_value(results):
    """The value when exactly one series (or a scalar or string) came back, else None."""
    if len(results) != 1:
        return None
    return series_value(results[0])


# Thresholds -------------------------------------------------------------------------------------


def breaches(value, threshold, op=">"):
    """Whether ``value op threshold`` holds; NaN and a missing value never breach, whatever op."""
    compare = OPERATORS.get(op)
    if compare is None:
        raise PrometheusInputError("op: %r is not one of %s" % (op, ", ".join(OPERATORS)))
    if value is None:
        return False
    number = float(value)
    if math.isnan(number):
        return False
    return bool(compare(number, float(threshold)))


def apply_threshold(result_type, results, threshold, op=">"):
    """Set ``breached`` on every series (a matrix series by its last value); True if any is."""
    if op not in OPERATORS:
        raise PrometheusInputError("op: %r is not one of %s" % (op, ", ".join(OPERATORS)))
    if threshold is None or math.isnan(float(threshold)):
        raise PrometheusInputError("threshold: give a number, not %r" % (threshold,))
    if result_type == "string":
        raise PrometheusInputError(
            "threshold: the query returned a string, which cannot be compared"
        )
    for series in results:
        series["breached"] = breaches(series_value(series), threshold, op)
    return any(series["breached"] for series in results)


# Times and durations ----------------------------------------------------------------------------


def _duration_seconds(text):
    """Seconds of a Prometheus duration such as 1h30m, or None if ``text`` is not one."""
    match = _DURATION.match(text)
    if not text or not match:
        return None
    units = _DURATION_UNITS
    return float(
        sum(int(count) * units[index] for index, count in enumerate(match.groups()) if count)
    )


def parse_duration(value, option="step"):
    """Seconds (float) from a number of seconds (30, "1.5") or a Prometheus duration ("1m30s")."""
    if isinstance(value, bool) or value is None:
        seconds = None
    elif isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = to_text(value).strip()
        seconds = float(text) if _NUMBER.match(text) else _duration_seconds(text)
    if seconds is None:
        raise PrometheusInputError(
            "%s: %r is neither seconds nor a duration such as 30s, 5m, 1h30m" % (option, value)
        )
    if seconds <= 0 or math.isnan(seconds) or math.isinf(seconds):
        raise PrometheusInputError(
            "%s: must be a positive, finite duration, not %r" % (option, value)
        )
    return seconds


def _rfc3339(match):
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    # Range checks (month 13, February 30) by the datetime constructor.
    datetime.datetime(year, month, day, hour, minute, second)
    seconds = float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))
    seconds += float(match.group(7) or 0)
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= offset if match.group(9) == "+" else -offset
    return seconds


def _relative(text, now):
    """Seconds of ``now``, ``now-5m``, ``-5m``, ``now+1h``; None if ``text`` is none of them."""
    match = _RELATIVE.match(text.lower())
    if not match or not (match.group(1) or match.group(2)):
        return None
    current = _time.time() if now is None else float(now)
    sign, amount = match.group(2, 3)
    if not sign:
        return current
    delta = _duration_seconds(amount)
    if delta is None:
        return None
    return current - delta if sign == "-" else current + delta


def _text_time(text, now, option):
    if _NUMBER.match(text):
        return float(text)
    match = _RFC3339.match(text)
    if match:
        try:
            return _rfc3339(match)
        except ValueError:
            raise PrometheusInputError(
                "%s: %r is not a valid date and time" % (option, text)
            ) from None
    return _relative(text, now)


def parse_time(value, now=None, option="time"):
    """Unix seconds (float) from what a user may write for a query time; None stays None.

    Accepted: unix seconds (number or numeric string), RFC3339 with a time zone
    (2024-05-01T12:00:00Z, 2024-05-01T14:00:00.5+02:00), an aware ``datetime``, ``now``, and
    ``now`` plus or minus a duration (``now-5m``, or just ``-5m``; a bare number is unix seconds,
    so write ``-300s``, not ``-300``). ``now`` is the clock where this code runs, or ``now`` given.
    """
    if value is None:
        return None
    seconds = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            raise PrometheusInputError("%s: the datetime %s has no time zone" % (option, value))
        seconds = value.timestamp()
    else:
        seconds = _text_time(to_text(value).strip(), now, option)
    if seconds is None or math.isnan(seconds) or math.isinf(seconds):
        raise PrometheusInputError(
            "%s: %r is not a time; give unix seconds, RFC3339 with a time zone "
            "(2024-05-01T12:00:00Z), now, or now minus a duration (now-5m, -5m)" % (option, value)
        )
    return seconds


def format_seconds(seconds):
    """Seconds as Prometheus reads a time, step or timeout parameter (millisecond precision)."""
    if seconds is None:
        return None
    text = "%.3f" % seconds
    return text.rstrip("0").rstrip(".") if "." in text else text


def describe(expr, name=None):
    """The query as failure messages and warnings name it."""
    if name is None:
        return "'%s'" % expr
    return "%s='%s'" % (name, expr)


def _check_expr(expr, name=None):
    if not isinstance(expr, str) or not expr.strip():
        where = "query" if name is None else "queries: %s" % name
        raise PrometheusInputError("%s: give a PromQL expression, not %r" % (where, expr))


# PromQL strings and selectors -------------------------------------------------------------------

# Prometheus' label names (the classic grammar; alert labels never use any other).
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_SHORT_ESCAPES = {
    "\\": "\\\\",
    '"': '\\"',
    "\a": "\\a",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}


def _escaped(char):
    escape = _SHORT_ESCAPES.get(char)
    if escape is not None:
        return escape
    # U+FFFD is what Prometheus' lexer sees for invalid UTF-8: written literally, it is refused.
    if char.isprintable() and char != "\ufffd":
        return char
    code = ord(char)
    if code < 0x80:
        return "\\x%02x" % code
    if code <= 0xFFFF:
        return "\\u%04x" % code
    return "\\U%08x" % code


def promql_string(value):
    """``value`` as a PromQL double-quoted string literal that Prometheus reads back as exactly
    ``value``, whatever UTF-8 text it is: ``a"b`` -> ``"a\\"b"``.

    PromQL strings follow Go's syntax (promql/parser/lex.go, util/strutil.Unquote): a backslash
    starts an escape and a double quote ends the string, so both are escaped; a newline is
    refused inside a string and U+FFFD reads as an invalid UTF-8 rune, so they are escaped too,
    as are the other control, format, separator, private-use and unassigned characters (``\\n``,
    ``\\x01``, ``\\u200b``, ...) so that the query shows what it matches. Other characters
    stay as they are. Numbers are written as text; anything else (None, booleans, lists, text
    that is not UTF-8) is a PrometheusInputError.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise PrometheusInputError(
            "a PromQL string needs text, not %s %r" % (type(value).__name__, value)
        )
    text = to_text(value) if not isinstance(value, str) else value
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise PrometheusInputError(
            "%r is not UTF-8 text (character %d), which PromQL cannot hold" % (text, error.start)
        ) from None
    return '"%s"' % "".join(_escaped(char) for char in text)


def promql_matchers(labels):
    """Equality matchers ``name="value", ...`` for a mapping of label names to values.

    Names must follow Prometheus' grammar ``[a-zA-Z_][a-zA-Z0-9_]*``; values are escaped with
    ``promql_string``, so a value such as ``x"} or vector(1)`` matches exactly that text and
    never changes the query. The order of ``labels`` is kept.
    """
    if not isinstance(labels, Mapping):
        raise PrometheusInputError(
            "PromQL matchers need a mapping of label names to values, not %s"
            % type(labels).__name__
        )
    matchers = []
    for name, value in labels.items():
        if not isinstance(name, str) or not _LABEL_NAME.fullmatch(name):
            raise PrometheusInputError(
                "%r is not a Prometheus label name: letters, digits and '_', not starting with "
                "a digit" % (name,)
            )
        try:
            matchers.append("%s=%s" % (name, promql_string(value)))
        except PrometheusInputError as error:
            raise PrometheusInputError("label %s: %s" % (name, error)) from None
    return ", ".join(matchers)


def promql_selector(labels, metric=""):
    """A series selector ``metric{name="value", ...}`` (``{...}`` without ``metric``) from a
    mapping of label names to values, escaped as ``promql_matchers`` does.

    ``metric``, when given, must be a metric name (``[a-zA-Z_:][a-zA-Z0-9_:]*``).
    """
    if metric and not _METRIC_NAME.fullmatch(metric):
        raise PrometheusInputError("%r is not a Prometheus metric name" % (metric,))
    return "%s{%s}" % (metric, promql_matchers(labels))


# Client -----------------------------------------------------------------------------------------


class PrometheusClient(APIClient):
    """Instant and range queries; every query is a POST (long expressions fit) retried as a read.

    ``timeout`` in the query methods is Prometheus' own evaluation timeout (its ``timeout``
    parameter); the HTTP timeout is the client's ``timeout`` option.
    """

    service = "Prometheus"

    def _ask(self, path, action, form):
        body = self.request("POST", path, action, form=form, read=True)
        try:
            return parse_response(body)
        except PrometheusResponseError as error:
            raise APIError(action, self.url + path, detail=to_text(error)) from None

    def query(self, expr, time=None, timeout=None, *, name=None):
        """An instant query at ``time`` (default: Prometheus' own now)."""
        _check_expr(expr, name)
        form = {
            "query": expr,
            "time": format_seconds(parse_time(time)),
            "timeout": format_seconds(parse_duration(timeout, "query_timeout"))
            if timeout is not None
            else None,
        }
        return self._ask("/api/v1/query", "run query %s" % describe(expr, name), form)

    def query_range(self, expr, start, end, step, *, timeout=None, name=None):
        """A range query from ``start`` to ``end`` every ``step``."""
        _check_expr(expr, name)
        form = {
            "query": expr,
            "start": format_seconds(parse_time(start, option="start")),
            "end": format_seconds(parse_time(end, option="end")),
            "step": format_seconds(parse_duration(step)),
            "timeout": format_seconds(parse_duration(timeout, "query_timeout"))
            if timeout is not None
            else None,
        }
        return self._ask("/api/v1/query_range", "run range query %s" % describe(expr, name), form)

    def evaluate(
        self, expr, *, time=None, start=None, end=None, step=None, timeout=None, name=None
    ):
        """A range query when ``start``, ``end`` and ``step`` are given, else an instant query."""
        ranged = [value is not None for value in (start, end, step)]
        if any(ranged) and not all(ranged):
            raise PrometheusInputError("start, end and step: a range query needs all three")
        if all(ranged):
            if time is not None:
                raise PrometheusInputError(
                    "time: give either time (instant query) or start, end and step (range query)"
                )
            return self.query_range(expr, start, end, step, timeout=timeout, name=name)
        return self.query(expr, time=time, timeout=timeout, name=name)

    def run_queries(self, queries, *, time=None, start=None, end=None, step=None, timeout=None):
        """Run ``{name: expr}`` concurrently; returns ``{name: answer}`` as ``query()`` answers.

        Relative times are resolved once, so every query sees the same instant or range. If any
        query fails, the first failure in the order of ``queries`` is raised; its message names
        the query and its expression.
        """
        if not queries:
            raise PrometheusInputError("queries: give at least one name: expression pair")
        for name, expr in queries.items():
            _check_expr(expr, name)
        now = _time.time()
        times = dict(
            time=parse_time(time, now),
            start=parse_time(start, now, "start"),
            end=parse_time(end, now, "end"),
            step=step,
            timeout=timeout,
        )
        workers = min(MAX_CONCURRENT_QUERIES, len(queries))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [
                (name, pool.submit(self.evaluate, expr, name=name, **times))
                for name, expr in queries.items()
            ]
        return {name: future.result() for name, future in futures}


def query_module_result(client, params):
    """Everything prometheus_query returns, from its parameters; returns ``(result, warnings)``."""
    times = dict(
        time=params.get("time"),
        start=params.get("start"),
        end=params.get("end"),
        step=params.get("step"),
        timeout=params.get("query_timeout"),
    )
    threshold = params.get("threshold")
    op = params.get("op") or ">"
    warnings = []
    if params.get("query") is not None:
        answer = client.evaluate(params["query"], **times)
        warnings.extend(
            "Prometheus warned about query %s: %s" % (describe(params["query"]), text)
            for text in answer["warnings"]
        )
        result = {
            "result_type": answer["result_type"],
            "results": answer["results"],
            "value": single_value(answer["results"]),
        }
        if threshold is not None:
            result["breached"] = apply_threshold(
                answer["result_type"], answer["results"], threshold, op
            )
        return result, warnings

    queries = params.get("queries") or {}
    answers = client.run_queries(queries, **times)
    result = {
        "results": {name: answer["results"] for name, answer in answers.items()},
        "query_values": {name: single_value(answer["results"]) for name, answer in answers.items()},
    }
    for name, answer in answers.items():
        warnings.extend(
            "Prometheus warned about query %s: %s" % (describe(queries[name], name), text)
            for text in answer["warnings"]
        )
    if threshold is not None:
        breached = [
            apply_threshold(answer["result_type"], answer["results"], threshold, op)
            for answer in answers.values()
        ]
        result["breached"] = any(breached)
    return result, warnings


def lookup_value(answer):
    """What the promql lookup returns for one term.

    A float (or non-finite string) for a scalar or a single-series vector, the string of a
    string result, otherwise the list of series (``[]`` for an empty vector; a matrix stays a
    list of ``{labels, values}`` even with one series).
    """
    results = answer["results"]
    if answer["result_type"] in ("scalar", "string"):
        return results[0]["value"]
    if answer["result_type"] == "vector" and len(results) == 1:
        return results[0]["value"]
    return results


class PrometheusModule(APIModule):
    """AnsibleModule with the Prometheus connection options (env fallback PROMETHEUS_*)."""

    client_class = PrometheusClient
    env_prefix = "PROMETHEUS"
