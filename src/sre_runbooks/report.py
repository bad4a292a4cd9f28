"""The summary of a run for people: report.json of each host, as a few lines of text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_HEADLINE_FINDINGS = 6
_NEEDS_PEOPLE = ("unresolved", "approval_required", "refused", "failed")


def _text(value: Any, limit: int = 120) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _findings(findings: Any) -> list[str]:
    """The scalar findings as ``key=value``; nested ones by name only (report.json has them)."""
    if not isinstance(findings, Mapping) or not findings:
        return []
    # The role's related metrics (one Prometheus call) are the headline of a remediation report.
    metrics = findings.get("metrics")
    if isinstance(metrics, Mapping):
        findings = {
            **{key: value for key, value in findings.items() if key != "metrics"},
            **{
                key: round(value, 4) if isinstance(value, float) else value
                for key, value in metrics.items()
                if not isinstance(value, Mapping | list)
            },
        }
    scalars = [
        f"{key}={_text(value, 40)}"
        for key, value in findings.items()
        if not isinstance(value, Mapping | list)
    ]
    nested = [str(key) for key, value in findings.items() if isinstance(value, Mapping | list)]
    more = len(scalars) - _HEADLINE_FINDINGS
    shown = ", ".join(scalars[:_HEADLINE_FINDINGS]) + (f" (+{more} more)" if more > 0 else "")
    if nested:
        shown += ("; " if shown else "") + "details: " + ", ".join(nested)
    return [f"  findings:     {shown}"]


def _decisions(decisions: Any) -> list[str]:
    if not isinstance(decisions, list) or not decisions:
        return []
    lines = ["  decisions:"]
    for item in decisions:
        if not isinstance(item, Mapping):
            continue
        risky = " (risky)" if item.get("risky") else ""
        status = _text(item.get("status", "?"), 20)
        lines.append(
            f"    [{status}] {_text(item.get('action', '?'), 40)}: "
            f"{_text(item.get('description', ''))}{risky}"
        )
    return lines


def _actions(actions: Any, check_mode: bool) -> list[str]:
    if not isinstance(actions, list) or not actions:
        return []
    lines = ["  actions (planned):" if check_mode else "  actions:"]
    for item in actions:
        if not isinstance(item, Mapping):
            continue
        changed = "changed" if item.get("changed") else "unchanged"
        lines.append(
            f"    {_text(item.get('action', '?'), 40)} on {_object_text(item.get('object'))}: "
            f"{_text(item.get('before'), 40)} -> {_text(item.get('after'), 40)} ({changed})"
        )
    return lines


def _verification(verification: Any) -> list[str]:
    if not isinstance(verification, Mapping) or not verification:
        return []
    recovered = verification.get("recovered")
    word = {True: "recovered", False: "not recovered"}.get(recovered, "not verified")
    seconds = verification.get("seconds")
    after = f" after {seconds}s" if isinstance(seconds, int | float) else ""
    query = f"  ({_text(verification['query'], 80)})" if verification.get("query") else ""
    return [f"  verification: {word}{after}{query}"]


def summary_lines(
    report: Mapping[str, Any], json_path: str | None, md_path: str | None
) -> list[str]:
    """The summary of one host's report."""
    target = report.get("target") if isinstance(report.get("target"), Mapping) else {}
    check = bool(report.get("check_mode"))
    head = (
        f"{report.get('alert', '?')} ({report.get('system', '?')}) on "
        f"{report.get('cluster', '?')}: {report.get('outcome', 'failed')}"
        + (" [check mode]" if check else "")
    )
    lines = [head]
    if report.get("message"):
        lines.append(f"  message:      {_text(report['message'], 200)}")
    if target:
        lines.append(
            f"  target:       {target.get('kind', '?')} "
            f"{target.get('namespace', '?')}/{target.get('name', '?')}"
        )
    lines += _findings(report.get("findings"))
    lines += _decisions(report.get("decisions"))
    lines += _actions(report.get("actions"), check)
    lines += _verification(report.get("verification"))
    if report.get("silence_id"):
        lines.append(f"  silence:      {_text(report['silence_id'], 60)}")
    escalation = report.get("escalation")
    if isinstance(escalation, list) and escalation and report.get("outcome") in _NEEDS_PEOPLE:
        steps = ", ".join(
            f"after {_text(step.get('after'), 10)} {_text(step.get('to'), 60)}"
            for step in escalation
            if isinstance(step, Mapping)
        )
        lines.append(f"  escalation:   {steps}")
    for label, path in (("report", md_path), ("report json", json_path)):
        if path:
            lines.append(f"  {label + ':':<13} {path}")
    return lines


def _object_text(obj: object) -> str:
    """``Deployment ns/name`` for an action's object."""
    if isinstance(obj, dict):
        return f"{obj.get('kind', '?')} {obj.get('namespace', '?')}/{obj.get('name', '?')}"
    return _text(obj, 60)
