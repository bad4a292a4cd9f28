# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A remediation's report for people: numbers with units, results in one line, report.md, Slack.

Humanizers (``percent``, ``seconds``, ``byte_size``, ``cpu``, ``significant`` and ``humanize``,
which picks one by the metric's name) never raise: None is ``no data``, NaN and infinities are
written as Prometheus writes them. ``summarize`` turns an investigation result (a count by
pattern, a rollout history, pod usage, a list) into one short line. ``render_markdown`` and
``slack_text`` write a report dict (as roles/remediation/tasks/report.yml assembles it) as
report.md and as seed 001's chat update. All are pure (private; not for general re-use).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import math
import re
from collections.abc import Mapping
from decimal import Decimal

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_container import parse_quantity
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusInputError,
    json_safe,
    parse_time,
)

NO_DATA = "no data"
# Longest line an investigation result is summarised in; report.json keeps everything.
SUMMARY_LIMIT = 160
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB")
_EXPONENT = re.compile(r"e([+-])0*(\d)")
# A number written with more decimals than anyone reads (0.5000000451855228), not a version.
_LONG_DECIMAL = re.compile(r"(?<![\w.])-?\d{1,6}\.\d{5,}(?![\w.])")


def _words(*hints):
    """A pattern for metric names with one of ``hints`` as whole words (``duration`` is not a
    ratio; ``p95_latency`` and ``LatencySeconds`` are latencies)."""
    return re.compile(r"(?:^|_)(?:%s)(?:_|$)" % "|".join(hints))


# Metric name hints, checked in this order (memory_ratio is a ratio, cpu_seconds is CPU).
_UNIT_HINTS = (
    ("percent", _words("percent", "percentage", "pct")),
    (
        "ratio",
        _words("ratio", "fraction", "availability", "utili[sz]ation", "hit_rate", "success_rate"),
    ),
    ("cpu", _words("cpu", "cores")),
    ("seconds", _words("latency", "seconds", "duration", "age", "elapsed", "uptime", "time")),
    ("bytes", _words("bytes", "memory", "mem", "heap", "storage", "size")),
)
_PER_SECOND = _words("rate", "growth", "per_second", "deriv", "throughput")

# The report's outcomes, as the first words of report.md.
OUTCOMES = {
    "resolved": "Resolved",
    "not_firing": "Nothing to do: the alert was not firing",
    "planned": "Planned only (check mode), nothing was changed",
    "mitigated": "Mitigated, not verified",
    "unresolved": "Not resolved: the alert still fires",
    "approval_required": "Waiting for approval of a risky mitigation",
    "failed": "Failed",
    "refused": "Refused to act",
    "locked": "Held back: another run holds an object it would change",
    "cooldown": "Held back: a recent mitigation is cooling down",
    "budget": "Held back: the object's budget of mitigations is spent",
}
ESCALATING = ("unresolved", "approval_required", "failed", "refused")
HELD_BACK = ("locked", "cooldown", "budget")


# Numbers -----------------------------------------------------------------------------------------


def number(value):
    """``value`` as a float: numbers, numeric text (``"NaN"``, ``"+Inf"`` too), Kubernetes
    quantities (``250m``, ``2Gi``); None for anything else, booleans included."""
    result = None
    if isinstance(value, bool):
        pass
    elif isinstance(value, (int, float, Decimal)):
        try:
            result = float(value)
        except OverflowError:
            result = math.inf if value > 0 else -math.inf
        except ValueError:  # a signalling Decimal NaN
            result = math.nan
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            result = _quantity_or_none(value)
    return result


def _quantity_or_none(text):
    try:
        return float(parse_quantity(text.strip()))
    except (ValueError, ArithmeticError):
        return None


def _humanizer(function):
    """``function`` of a finite float made to take any value: numbers, numeric text and
    quantities are read with ``number()``; None and other values are ``no data``, NaN and
    infinities are written as Prometheus writes them."""

    @functools.wraps(function)
    def humanized(value, *args, **kwargs):
        value = number(value)
        if value is None:
            return NO_DATA
        special = json_safe(value)
        if isinstance(special, str):
            return special
        return function(value, *args, **kwargs)

    return humanized


def _exponent(text):
    """``2.4e+06`` as ``2.4e6`` and ``1.5e-05`` as ``1.5e-5``."""
    return _EXPONENT.sub(
        lambda match: "e" + ("-" if match.group(1) == "-" else "") + match.group(2), text
    )


def _fixed(value, digits):
    """``value`` with ``digits`` significant digits, no exponent for 1e-4 to 1e15; whole numbers
    keep all their digits (``1234`` stays ``1234``), trailing zeros go."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if not 1e-4 <= magnitude < 1e15:
        return _exponent("%.*g" % (digits, value))
    decimals = max(0, digits - 1 - math.floor(math.log10(magnitude)))
    text = "%.*f" % (decimals, value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


@_humanizer
def significant(value, digits=3):
    """A number with at most ``digits`` significant digits: ``0.052``, ``12.5``, ``1.23k``,
    ``2.4e6``; numeric text and quantities are read first. Never raises."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e3 <= magnitude < 10**digits * 1e3 - 0.5e3:
        text = "%.*g" % (digits, value / 1e3)
        if "e" not in text:
            return text + "k"
    return _exponent("%.*g" % (digits, value))


@_humanizer
def percent(ratio, digits=3):
    """A ratio (``0.5``) as a percentage (``50%``), never rounded to 100% or 0% when it is not."""
    value = ratio
    if abs(value) >= 1e300:  # a hundred times would overflow
        return _exponent(format(Decimal(value) * 100, ".%dg" % digits)) + "%"
    value *= 100
    text = _fixed(value, digits)
    extra = digits
    while extra < digits + 4 and text.lstrip("-") in ("100", "0") and value not in (100, -100, 0):
        extra += 1
        text = _fixed(value, extra)
    return text + "%"


def _scaled(value, steps):
    """``value`` in the first unit of ``steps`` ``(limit, divisor, unit, digits)`` it stays under
    once rounded to that unit's significant ``digits``."""
    for limit, divisor, unit, digits in steps:
        text = _fixed(value / divisor, digits)
        if limit is None or abs(float(text)) * divisor < limit:
            return "%s %s" % (text, unit)
    raise AssertionError("the last step has no limit")  # pragma: no cover


_SECONDS_STEPS = (
    (1, 1e-3, "ms", 3),
    (60, 1, "s", 3),
    (3600, 60, "min", 2),
    (48 * 3600, 3600, "h", 2),
    (None, 86400, "d", 2),
)
_BYTES_STEPS = tuple(
    (None if power == len(_BINARY_UNITS) - 1 else 1024.0 ** (power + 1), 1024.0**power, unit, 3)
    for power, unit in enumerate(_BINARY_UNITS)
)


@_humanizer
def seconds(value):
    """A duration in seconds as ``243 ms``, ``7.2 s``, ``2.5 min``, ``1.5 h`` or ``3 d``."""
    if value == 0:
        return "0 s"
    return ("-" if value < 0 else "") + _scaled(abs(value), _SECONDS_STEPS)


@_humanizer
def byte_size(value):
    """Bytes (or a quantity such as ``943718Ki``) as ``512 B``, ``922 MiB``, ``1.5 GiB``."""
    return ("-" if value < 0 else "") + _scaled(abs(value), _BYTES_STEPS)


@_humanizer
def cpu(quantity):
    """CPU (cores, or a quantity such as ``250000000n``) as millicores (``250m``), or cores from
    ten cores on (``12.5 cores``)."""
    value = quantity
    millicores = value * 1000
    if abs(millicores) >= 9999.5:
        return "%s cores" % _fixed(value, 3)
    if abs(millicores) >= 0.5:
        return "%dm" % round(millicores)
    return "%sm" % _fixed(millicores, 2)


def quantity(value):
    """A Kubernetes quantity (``2Gi``, ``500m``, ``1e3``) or a number as a float, so that sizes
    compare; ValueError when it is neither."""
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return float(value)
    return float(parse_quantity(value))


def unit_of(name):
    """The unit a metric's name suggests: ``percent``, ``ratio``, ``cpu``, ``seconds``,
    ``bytes`` (``bytes/s`` for a rate of bytes), or None."""
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name or ""))
    name = "_".join(re.split(r"[^a-z0-9]+", name.lower()))
    for unit, hints in _UNIT_HINTS:
        if hints.search(name):
            return "bytes/s" if unit == "bytes" and _PER_SECOND.search(name) else unit
    return None


def formatter(unit):
    """The humanizer of a unit as ``unit_of`` names it; ``significant`` for None."""
    return {
        "percent": _percent_points,
        "ratio": percent,
        "cpu": cpu,
        "seconds": seconds,
        "bytes": byte_size,
        "bytes/s": lambda value: _per_second(byte_size(value)),
    }.get(unit, significant)


def _percent_points(value):
    """A value that is already a percentage (``85``) as ``85%``."""
    value = number(value)
    return percent(None if value is None else value / 100.0)


def _per_second(text):
    return text + "/s" if text[-1:].isalpha() else text


def humanize(name, value):
    """``value`` of the metric ``name`` with the unit its name suggests (``error_ratio`` 0.5 is
    ``50%``, ``p95_latency`` 0.2425 is ``243 ms``); otherwise 3 significant digits."""
    return formatter(unit_of(name))(value)


def tidy_numbers(text):
    """``text`` with numbers of many decimals (``0.5000000451855228``) at 3 significant digits."""
    return _LONG_DECIMAL.sub(lambda match: significant(match.group(0)), text)


# Times ------------------------------------------------------------------------------------------


def timestamp(value):
    """Unix seconds from unix seconds or RFC3339 text; None when it is not a time."""
    if value is None or value == "":
        return None
    try:
        return parse_time(value, 0.0, "time")
    except (PrometheusInputError, ValueError, TypeError, OverflowError):
        return None


def offset(value, start):
    """A time as seconds since ``start``: ``+0 s``, ``+12 s``, ``+2 min 05 s``; the time itself
    when either is not a time."""
    at, origin = timestamp(value), timestamp(start)
    if at is None or origin is None:
        return str(value)
    delta = round(at - origin)
    sign = "-" if delta < 0 else "+"
    delta = abs(delta)
    if delta < 60:
        return "%s%d s" % (sign, delta)
    if delta < 3600:
        return "%s%d min %02d s" % (sign, delta // 60, delta % 60)
    return "%s%d h %02d min" % (sign, delta // 3600, delta % 3600 // 60)


# Investigation results in one line ----------------------------------------------------------------


def _shorten(text, limit=SUMMARY_LIMIT):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _scalar(value):
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, Decimal)):
        return significant(value)
    return tidy_numbers(str(value))


def _is_scalar(value):
    return value is None or isinstance(value, (str, bool, int, float, Decimal))


def _range(values, format_value):
    """``250m`` or ``250m-300m``: the lowest and highest of ``values``, formatted."""
    low, high = format_value(min(values)), format_value(max(values))
    if low == high:
        return low
    low_number, _space, low_unit = low.partition(" ")
    if low_unit and high.endswith(" " + low_unit):
        return "%s-%s" % (low_number, high)
    return "%s-%s" % (low, high)


def _pod_usage(result):
    """``{pod: {container: {cpu, memory}}}`` (k8s_workload_diagnose's metrics) as one line."""
    totals = []
    for containers in result.values():
        usage = [number(one.get(key)) for one in containers.values() for key in ("cpu", "memory")]
        cpus = [value for value in usage[0::2] if value is not None]
        memories = [value for value in usage[1::2] if value is not None]
        totals.append((sum(cpus) if cpus else None, sum(memories) if memories else None))
    parts = ["%d pod%s" % (len(result), "" if len(result) == 1 else "s")]
    cpus = [one for one, _memory in totals if one is not None]
    memories = [memory for _cpu, memory in totals if memory is not None]
    if cpus:
        parts.append("CPU " + _range(cpus, cpu))
    if memories:
        parts.append("memory " + _range(memories, byte_size))
    return ", ".join(parts)


def _looks_like_pod_usage(result):
    return bool(result) and all(
        isinstance(containers, Mapping)
        and containers
        and all(
            isinstance(one, Mapping) and one and set(one) <= {"cpu", "memory"}
            for one in containers.values()
        )
        for containers in result.values()
    )


def _history(result):
    """A rollout history (k8s_workload_diagnose's ``history``) as one line."""
    count = result.get("revisions")
    parts = []
    if count is not None:
        parts.append("%s revision%s" % (count, "" if count == 1 else "s"))
    age = result.get("newest_age_seconds")
    if age is not None:
        parts.append("newest %s old" % seconds(age))
    text = ", ".join(parts) or "no revisions"
    newest, previous = result.get("newest_images") or [], result.get("previous_images") or []
    if newest and newest != previous:
        text += " (%s%s)" % (
            ", ".join(newest),
            "; before: " + ", ".join(previous) if previous else "",
        )
    return text


def _counts(result):
    return ", ".join("%s %s" % (key, _scalar(value)) for key, value in result.items()) or "none"


def _workload(result):
    text = "%s %s" % (result.get("kind", ""), result.get("name", ""))
    parts = []
    if result.get("replicas") is not None:
        parts.append("%s replicas" % result["replicas"])
    if result.get("paused"):
        parts.append("paused")
    if result.get("rollout_done") is not None:
        parts.append("rolled out" if result["rollout_done"] else "rolling out")
    return text.strip() + (": " + ", ".join(parts) if parts else "")


def _generic(result):
    parts = []
    for key, value in result.items():
        if isinstance(value, Mapping):
            shown = "%d entries" % len(value)
        elif isinstance(value, (list, tuple)):
            shown = "%d items" % len(value)
        else:
            shown = _scalar(value)
        parts.append("%s %s" % (key, shown))
    return ", ".join(parts)


def summarize(result, limit=SUMMARY_LIMIT):
    """An investigation result in one line of at most ``limit`` characters.

    ``{"ERROR": 12, "WARN": 0}`` is ``ERROR 12, WARN 0``; a rollout history ``3 revisions,
    newest 2 min old (...)``; pod usage ``2 pods, CPU 250m-300m, memory 120-130 MiB``; log
    counts with their containers, a workload's state, lists joined; long decimals rounded.
    """
    if _is_scalar(result):
        return _shorten(_scalar(result), limit)
    if isinstance(result, Mapping):
        if not result:
            text = "none"
        elif "revisions" in result and (
            "newest_revision" in result or "current_revision" in result
        ):
            text = _history(result)
        elif _looks_like_pod_usage(result):
            text = _pod_usage(result)
        elif isinstance(result.get("counts"), Mapping) and "containers" in result:
            containers = result.get("containers") or []
            text = "%s (%d container%s read)" % (
                _counts(result["counts"]),
                len(containers),
                "" if len(containers) == 1 else "s",
            )
        elif "kind" in result and "name" in result and "replicas" in result:
            text = _workload(result)
        elif all(_is_scalar(value) for value in result.values()):
            text = _counts(result)
        else:
            text = _generic(result)
        return _shorten(text, limit)
    if isinstance(result, (list, tuple)):
        if not result:
            return "none"
        if all(_is_scalar(value) for value in result):
            return _shorten("; ".join(_scalar(value) for value in result), limit)
        return _shorten("%d items; first: %s" % (len(result), summarize(result[0], limit)), limit)
    return _shorten(str(result), limit)


# report.md -------------------------------------------------------------------------------------


def _cell(value):
    """Text for a Markdown table cell: one line, pipes escaped."""
    return " ".join(str("" if value is None else value).split()).replace("|", "\\|")


def _object(obj):
    obj = obj if isinstance(obj, Mapping) else {}
    namespace = obj.get("namespace")
    name = "%s/%s" % (namespace, obj.get("name", "")) if namespace else obj.get("name", "")
    return ("%s %s" % (obj.get("kind", ""), name)).strip()


def _sentence(text):
    text = " ".join(str(text or "").split())
    return text if not text or text[-1] in ".!?" else text + "."


def _escalation(report):
    return ", ".join(
        "%s after %s" % (level.get("to", ""), level.get("after", ""))
        for level in report.get("escalation") or []
        if isinstance(level, Mapping)
    )


def outcome_sentence(report):
    """The report's first line: what came of the run, its message, whom to call when it matters."""
    outcome = report.get("outcome") or "failed"
    text = "**%s**" % OUTCOMES.get(outcome, outcome)
    message = _sentence(tidy_numbers(str(report.get("message") or "")))
    if message:
        text += ": " + message
    else:
        text += "."
    escalation = _escalation(report)
    if outcome in ESCALATING and escalation:
        text += " Escalate: %s." % escalation
    return text


def _findings(report):
    findings = report.get("findings") or {}
    if "firing" not in findings:
        return []
    lines = ["- alert firing: %s" % _scalar(findings.get("firing"))]
    for name, value in (findings.get("metrics") or {}).items():
        lines.append("- `%s`: %s" % (name, humanize(name, value)))
    summary = (findings.get("workload") or {}).get("summary") or {}
    if summary:
        line = "- pods: %s/%s ready, %s restarts" % (
            summary.get("ready"),
            summary.get("pods"),
            summary.get("restarts"),
        )
        if summary.get("oom_killed"):
            line += ", OOMKilled: " + ", ".join(summary["oom_killed"])
        if summary.get("crash_looping"):
            line += ", crash looping: " + ", ".join(summary["crash_looping"])
        lines.append(line)
    return lines


def _decisions(report):
    decisions = report.get("decisions") or []
    if not decisions:
        return ["None: no rule applied."]
    lines = ["| action | status | object | why |", "| --- | --- | --- | --- |"]
    for decision in decisions:
        why = _cell(decision.get("description"))
        if decision.get("held_reason"):
            why += " (held back: %s)" % _cell(decision["held_reason"])
        status = _cell(decision.get("status"))
        if decision.get("risky"):
            status += " (risky)"
        lines.append(
            "| %s | %s | %s | %s |"
            % (_cell(decision.get("action")), status, _cell(_object(decision.get("object"))), why)
        )
    return lines


def _actions(report):
    lines = []
    for action in report.get("actions") or []:
        line = "- %s **%s** on %s: %s -> %s" % (
            offset(action.get("at"), report.get("started_at")),
            action.get("action"),
            _object(action.get("object")),
            action.get("before"),
            action.get("after"),
        )
        if action.get("check_mode"):
            line += " (check mode: not applied)"
        elif action.get("changed") is False:
            line += " (already so, unchanged)"
        lines.append(line)
    return lines or ["- none"]


def _verification(report):
    verification = report.get("verification") or {}
    if verification.get("recovered") is None:
        return "Not run (%s)." % (report.get("outcome") or "failed")
    text = "%s after %s" % (
        "Recovered" if verification["recovered"] else "Still firing",
        seconds(verification.get("seconds")),
    )
    still = verification.get("still_firing") or []
    if still and not verification["recovered"]:
        text += " (%d alert%s)" % (len(still), "" if len(still) == 1 else "s")
    if verification.get("query"):
        text += ": `%s`" % verification["query"]
    return text


def _duration_between(start, end):
    first, last = timestamp(start), timestamp(end)
    if first is None or last is None:
        return None
    return seconds(max(0.0, last - first))


def render_markdown(report):
    """report.md of a report dict: outcome first, numbers with units, results in one line,
    times relative to the run's start. report.json keeps every detail."""
    target = _object(report.get("target"))
    lines = [
        "# %s (%s) on %s: %s"
        % (report.get("alert"), report.get("system"), report.get("cluster"), report.get("outcome")),
        "",
        outcome_sentence(report),
        "",
        "| | |",
        "| --- | --- |",
        "| target | %s |" % _cell(target),
        "| severity | %s |"
        % _cell(
            "%s (%s)" % (report.get("severity"), report.get("seed_severity"))
            if report.get("seed_severity")
            else report.get("severity")
        ),
    ]
    took = _duration_between(report.get("started_at"), report.get("finished_at"))
    lines.append(
        "| started | %s%s |" % (_cell(report.get("started_at")), ", took %s" % took if took else "")
    )
    if report.get("check_mode") in (True, "True", "true"):
        lines.append("| check mode | yes: nothing was changed |")
    lines.append(
        "| run | `%s`, role `sre.runbooks.%s` |" % (report.get("run_id"), report.get("role"))
    )
    if report.get("runbook_url"):
        lines.append("| runbook | %s |" % _cell(report["runbook_url"]))
    findings = _findings(report)
    if findings:
        lines += ["", "## Findings", "", *findings]
    lines += ["", "## Investigation", ""]
    steps = report.get("investigation") or []
    for step in steps:
        lines.append("- **%s**: %s" % (_cell(step.get("step")), summarize(step.get("result"))))
    if not steps:
        lines.append("- not run (%s)" % report.get("outcome"))
    lines += ["", "## Decisions", "", *_decisions(report)]
    lines += ["", "## Actions", "", *_actions(report)]
    lines += ["", "## Verification", "", _verification(report)]
    artifacts = report.get("artifacts") or {}
    if artifacts.get("chart"):
        lines += ["", "![%s](chart.png)" % report.get("alert")]
    elif artifacts.get("chart_error"):
        lines += ["", "No chart: %s" % _sentence(artifacts["chart_error"])]
    lines += ["", "## Timeline", ""]
    for entry in report.get("timeline") or []:
        lines.append(
            "- %s %s: %s"
            % (
                offset(entry.get("at"), report.get("started_at")),
                entry.get("phase"),
                entry.get("event"),
            )
        )
    escalation = report.get("escalation") or []
    if escalation and report.get("outcome") in ESCALATING:
        lines += ["", "## Escalation", ""]
        lines += ["- after %s: %s" % (level.get("after"), level.get("to")) for level in escalation]
    return "\n".join(lines) + "\n"


# Seed 001's chat update --------------------------------------------------------------------------

_UNRESOLVED = ESCALATING + HELD_BACK


def slack_status(outcome):
    """The chat update's status word for an outcome, as seed 001's template has them."""
    if outcome == "resolved":
        return "Resolved"
    if outcome == "planned":
        return "Mitigation planned (check mode)"
    if outcome in HELD_BACK:
        return "Held back, still firing"
    if outcome in _UNRESOLVED:
        return "Escalated"
    return "Investigating"


def slack_text(report, engineer, starts_at=None):
    """Seed 001's Slack update for a report: alert, severity, start, status, assignee, actions,
    message, escalation while unresolved, and the run."""
    outcome = report.get("outcome")
    actions = report.get("actions") or []
    lines = [
        "🚨 **ALERT**: %s" % report.get("alert"),
        "📊 **Severity**: %s" % (report.get("seed_severity") or report.get("severity") or ""),
        "⏰ **Started**: %s" % (starts_at or report.get("started_at")),
        "🔍 **Status**: %s (%s)" % (slack_status(outcome), outcome),
        "👤 **Assigned**: @%s" % engineer,
        "",
        "**Actions taken**:",
        "- [x] Initial assessment completed",
        "- [%s] Mitigation steps in progress" % ("x" if actions else " "),
    ]
    for action in actions:
        lines.append(
            "  - %s on %s: %s -> %s"
            % (
                action.get("action"),
                _object(action.get("object")),
                action.get("before"),
                action.get("after"),
            )
        )
    lines += ["- [ ] Root cause investigation ongoing", "", str(report.get("message") or "")]
    escalation = report.get("escalation") or []
    if outcome in _UNRESOLVED and escalation:
        lines.append(
            "**Escalation**: %s"
            % ", ".join(
                "%s after %s" % (level.get("to"), level.get("after")) for level in escalation
            )
        )
    lines.append("**Run**: %s on %s" % (report.get("run_id"), report.get("cluster")))
    return "\n".join(lines)
