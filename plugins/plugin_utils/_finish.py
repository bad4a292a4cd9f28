# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The run's end: its outcome from what each phase returned, the report files, the notification."""

from __future__ import annotations

import datetime
import json
import os

from ansible.module_utils.urls import open_url
from ansible_collections.sre.runbooks.plugins.module_utils import _report
from ansible_collections.sre.runbooks.plugins.module_utils._chart import (
    default_step,
    incident_chart,
    incident_marks,
    incident_window,
)
from ansible_collections.sre.runbooks.plugins.plugin_utils import _decide as decide
from ansible_collections.sre.runbooks.plugins.plugin_utils import _engine as engine


def collect(assessed, applied, verified):
    """(actions, silence ID, first failure) from the phases' registered results."""
    actions, silence_id, failure = [], "", None
    if assessed.get("failed"):
        failure = ("Assess and decide", assessed.get("msg", ""))
    for item in applied or []:
        if item.get("record"):
            actions.append(item["record"])
        silence_id = silence_id or item.get("silence_id") or ""
        if item.get("failed") and failure is None:
            failure = ("Mitigate", item.get("msg", ""))
    if (verified or {}).get("failed") and failure is None:
        failure = ("Verify", verified.get("msg", ""))
    return actions, silence_id, failure


def outcome(state, actions, verified, failure, *, check_mode, settings):
    """The run's outcome, message and verification record."""
    verification = verified.get("verification") or {
        "recovered": None,
        "seconds": None,
        "query": settings.get("firing_query"),
    }
    names = ", ".join(a["action"] for a in actions)
    if failure:
        result = "failed", "%s failed: %s" % failure
    elif state.get("outcome"):
        result = state["outcome"], state["message"]
    elif verified.get("outcome"):
        result = verified["outcome"], verified.get("msg", "")
    elif check_mode:
        result = "planned", "check mode: would apply %s" % (names or "nothing")
    else:
        result = "mitigated", "applied %s; verification skipped" % (names or "nothing")
    event = (
        {
            "phase": "verify",
            "event": "alert cleared" if verification.get("recovered") else "alert still firing",
        }
        if verified.get("outcome")
        else None
    )
    if event:
        engine.add_event(state, event["phase"], event["event"])
    return result[0], result[1], verification


def report(state, actions, verification, silence_id, *, audit, check_mode):
    entry = state.get("entry") or {}
    base = state["report_dir"]
    engine.add_event(state, "report", state["outcome"])
    return {
        "run_id": state["run_id"],
        "alert": state["alert"],
        "system": state["system"],
        "role": state["role"],
        "severity": entry.get("severity", ""),
        "seed_severity": entry.get("seed_severity", ""),
        "cluster": state["cluster"],
        "target": state["target"],
        "check_mode": check_mode,
        "outcome": state["outcome"],
        "message": state["message"],
        "findings": state["findings"],
        "investigation": state["investigation"],
        "decisions": decide.decision_report(state["decisions"], actions, check_mode),
        "actions": actions,
        "verification": verification,
        "silence_id": silence_id,
        "escalation": entry.get("escalation") or [],
        "runbook_url": entry.get("runbook_url", ""),
        "timeline": state["timeline"],
        "started_at": state["started_at"],
        "finished_at": engine.now_text(),
        "artifacts": {
            "report_json": os.path.join(base, "report.json"),
            "report_md": os.path.join(base, "report.md"),
            "chart": None,
            "chart_error": None,
            "audit_log": audit,
        },
    }


def _chart(conn, report, settings, alert_since):
    """The alert's metric over the incident, each mitigation marked; the PNG's path.

    The window runs from the alert's start (Prometheus' ALERTS_FOR_STATE; else the payload's
    startsAt) minus a margin to the end of the run, so the incident fills the chart.
    """
    path = os.path.join(os.path.dirname(report["artifacts"]["report_json"]), "chart.png")
    fired = alert_since or settings.get("alert_starts_at") or None
    start, end = incident_window(fired)
    step = default_step(start, end)
    answer = conn.prometheus.query_range(settings["chart_query"], start, end, step)
    title = settings.get("chart_title") or settings["chart_query"]
    incident_chart(
        answer["results"],
        start=start,
        end=end,
        step=step,
        marks=incident_marks(report, fired),
        threshold=settings.get("chart_threshold"),
        title="%s: %s" % (settings["alert"], title),
        name=title,
        unit=_report.unit_of(title),
        path=path,
    )
    return path


def _write(path, content, binary=False):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb" if binary else "w") as handle:
        handle.write(content)


def write_json(report):
    _write(
        report["artifacts"]["report_json"],
        json.dumps(report, indent=4, sort_keys=True, default=str) + "\n",
    )


def write(conn, report, state, settings, errors):
    """report.json, report.md and chart.png in the run's report directory (mode 0700)."""
    directory = os.path.dirname(report["artifacts"]["report_json"])
    os.makedirs(directory, mode=0o700, exist_ok=True)
    if settings["chart"] and settings.get("chart_query") and state["outcome"] != "refused":
        try:
            report["artifacts"]["chart"] = _chart(conn, report, settings, state.get("alert_since"))
        except Exception as error:  # a missing chart must not hide the outcome
            report["artifacts"]["chart_error"] = str(error)
    write_json(report)
    _write(report["artifacts"]["report_md"], _report.render_markdown(report))


def notify(report, settings):
    """Posts seed 001's status template to the webhook; a chat outage never fails the run."""
    text = _report.slack_text(
        report,
        settings.get("engineer") or "sre.runbooks",
        settings.get("alert_starts_at") or report["started_at"],
    )
    at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        response = open_url(
            settings["notify_url"],
            data=json.dumps({"text": text}),
            method="POST",
            headers={"Content-Type": "application/json"},
            timeout=10,
        )
        status = response.getcode()
    except Exception as error:  # the URL is a credential: never repeat it
        status = getattr(error, "code", None)
    report["timeline"].append(
        {"at": at, "phase": "notify", "event": "webhook answered HTTP %s" % (status or "no answer")}
    )
    return {"status": status}
