"""module_utils/_report.py: numbers with units, results in one line, report.md, the chat update."""

import math
import re
from decimal import Decimal
from typing import Any

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils._report import (
    byte_size,
    cpu,
    humanize,
    number,
    offset,
    outcome_sentence,
    percent,
    quantity,
    render_markdown,
    seconds,
    significant,
    slack_status,
    slack_text,
    summarize,
    tidy_numbers,
    unit_of,
)
from hypothesis import given
from hypothesis import strategies as st

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
)
finite = st.floats(allow_nan=False, allow_infinity=False)
HUMANIZERS = {
    percent: re.compile(r"^-?[0-9.e-]+%$"),
    seconds: re.compile(r"^-?[0-9.e-]+ (ms|s|min|h|d)$"),
    byte_size: re.compile(r"^-?[0-9.e-]+ (B|KiB|MiB|GiB|TiB|PiB|EiB)$"),
    cpu: re.compile(r"^-?([0-9.e-]+m|[0-9.e-]+ cores)$"),
}


@pytest.mark.parametrize("humanizer", [*HUMANIZERS, significant])
@given(value=anything)
def test_humanizers_never_raise_and_always_answer_text(humanizer, value):
    text = humanizer(value)
    assert isinstance(text, str)
    assert text


@pytest.mark.parametrize("humanizer", list(HUMANIZERS))
@given(value=finite)
def test_a_finite_value_always_has_its_unit(humanizer, value):
    assert HUMANIZERS[humanizer].match(humanizer(value)), humanizer(value)


@pytest.mark.parametrize("humanizer", [*HUMANIZERS, significant])
def test_missing_and_non_finite_values_say_so(humanizer):
    assert humanizer(None) == "no data"
    assert humanizer(math.nan) == "NaN"
    assert humanizer("+Inf") == "+Inf"
    assert humanizer(-math.inf) == "-Inf"
    assert humanizer("not a number") == "no data"


@given(value=st.floats(min_value=1e-6, max_value=1e15))
def test_significant_keeps_three_digits_of_the_value(value):
    text = significant(value)
    parsed = float(text[:-1]) * 1e3 if text.endswith("k") else float(text)
    assert math.isclose(parsed, value, rel_tol=5e-3)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.5000000358500987, "50%"),
        ("0.25", "25%"),
        (0.0523, "5.23%"),
        (0.00012, "0.012%"),
        (1, "100%"),
        (0, "0%"),
        # Never rounded to 100% (or 0%) when it is not: availability reads exactly.
        (0.9995, "99.95%"),
        (0.99999, "99.999%"),
        (1e-7, "1e-5%"),
    ],
)
def test_percent(value, text):
    assert percent(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.2425000267184538, "243 ms"),
        (0.0005, "0.5 ms"),
        (0.9996, "1 s"),
        (7.2, "7.2 s"),
        (59.96, "1 min"),
        (119, "2 min"),
        (150, "2.5 min"),
        (3590, "1 h"),
        (5400, "1.5 h"),
        (3 * 86400, "3 d"),
        (0, "0 s"),
        (-5, "-5 s"),
        ("12.5", "12.5 s"),
    ],
)
def test_seconds(value, text):
    assert seconds(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0 B"),
        (512, "512 B"),
        (1024, "1 KiB"),
        (1023.9, "1 KiB"),
        ("943718Ki", "922 MiB"),
        ("1288490188800m", "1.2 GiB"),
        ("2Gi", "2 GiB"),
        (1.5e9, "1.4 GiB"),
        (2**70, "1024 EiB"),
    ],
)
def test_byte_size_reads_numbers_and_kubernetes_quantities(value, text):
    assert byte_size(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("250000000n", "250m"),
        ("500m", "500m"),
        ("1.5", "1500m"),
        (2, "2000m"),
        (0.0004, "0.4m"),
        ("12", "12 cores"),
        (0, "0m"),
    ],
)
def test_cpu_is_in_millicores_as_kubectl_top_shows_it(value, text):
    assert cpu(value) == text


@pytest.mark.parametrize(
    ("name", "value", "text"),
    [
        ("error_ratio", 0.5000000451855228, "50%"),
        ("memory_ratio", 0.4499999997206032, "45%"),
        ("hit_rate", 0.71234, "71.2%"),
        ("availability", 0.999, "99.9%"),
        ("disk_used_percent", 85.123, "85.1%"),
        ("p95_latency", 0.2425000267184538, "243 ms"),
        ("max_tx_duration", 312.0, "5.2 min"),
        ("volume_free_bytes", 1.5e9, "1.4 GiB"),
        ("memory_growth", 12345.0, "12.1 KiB/s"),
        ("container_cpu_usage_seconds", 0.25, "250m"),
        ("dependency_up", 1.0, "1"),
        ("request_rate", 1234.5678, "1.23k"),
        ("restart_rate", 0.333333333, "0.333"),
        ("restarts", None, "no data"),
    ],
)
def test_humanize_picks_the_unit_by_the_metric_name(name, value, text):
    assert humanize(name, value) == text


def test_unit_of_checks_ratios_before_memory_and_cpu_before_seconds():
    assert unit_of("memory_ratio") == "ratio"
    assert unit_of("max_tx_duration") == "seconds"  # "ratio" inside a word is no ratio
    assert unit_of("RequestLatencySeconds") == "seconds"
    assert unit_of("storage_usage") == "bytes"
    assert unit_of("container_cpu_usage_seconds_total") == "cpu"
    assert unit_of("container_memory_working_set_bytes") == "bytes"
    assert unit_of("rate_of_bytes") == "bytes/s"
    assert unit_of("up") is None
    assert unit_of(None) is None


def test_quantity_reads_kubernetes_quantities_for_comparisons():
    assert quantity("2Gi") == 2 * 1024**3
    assert quantity("500m") == 0.5
    assert quantity("1e3") == 1000.0
    assert quantity(3) == 3.0
    assert quantity(Decimal("0.25")) == 0.25
    assert quantity("2Gi") > quantity("2000Mi")
    for bad in ("2 Gi", "lots", "", True, None):
        with pytest.raises(ValueError, match="invalid quantity"):
            quantity(bad)


def test_number_reads_what_reports_hold():
    assert number("250000000n") == 0.25
    assert number(" 0.5 ") == 0.5
    assert number(10**400) == math.inf
    assert math.isnan(number(Decimal("sNaN")))
    assert number(True) is None
    assert number([1]) is None


def test_tidy_numbers_rounds_long_decimals_only():
    assert (
        tidy_numbers("0.5000000451855228 5xx, p95 0.2425000267184538 s") == "0.5 5xx, p95 0.243 s"
    )
    kept = "image 1.5.0 on 10.244.1.11, at 1714564800.123456, ratio 0.25"
    assert tidy_numbers(kept) == kept


# Investigation results ------------------------------------------------------------------------

HISTORY = {
    "current_revision": 2,
    "newest_age_seconds": 130,
    "newest_created": "2026-12-03T20:03:06Z",
    "newest_images": ["nvcr.io/nimify/nimify-api:1.5.0"],
    "newest_revision": 2,
    "previous_images": ["nvcr.io/nimify/nimify-api:1.4.0"],
    "progressed_age_seconds": 19,
    "revisions": 3,
}
POD_USAGE = {
    "api-1": {"api": {"cpu": "250000000n", "memory": "122880Ki"}},
    "api-2": {"api": {"cpu": "300m", "memory": "130Mi"}, "sidecar": {"cpu": "0", "memory": "0"}},
}


@pytest.mark.parametrize(
    ("result", "text"),
    [
        ({"ERROR": 12, "WARN": 0}, "ERROR 12, WARN 0"),
        ({}, "none"),
        (
            HISTORY,
            "3 revisions, newest 2.2 min old "
            "(nvcr.io/nimify/nimify-api:1.5.0; before: nvcr.io/nimify/nimify-api:1.4.0)",
        ),
        ({"revisions": 1, "current_revision": 1}, "1 revision"),
        (POD_USAGE, "2 pods, CPU 250m-300m, memory 120-130 MiB"),
        ({"api-1": {"api": {"cpu": "5m"}}}, "1 pod, CPU 5m"),
        (
            {"containers": [{"pod": "a"}, {"pod": "b"}], "counts": {"ERROR": 6}},
            "ERROR 6 (2 containers read)",
        ),
        (
            {"kind": "Deployment", "name": "api", "replicas": 3, "rollout_done": False},
            "Deployment api: 3 replicas, rolling out",
        ),
        (["pod a restarted", "pod b pulled"], "pod a restarted; pod b pulled"),
        ([], "none"),
        ([{"ERROR": 1}, {"ERROR": 2}], "2 items; first: ERROR 1"),
        (
            {"policy": "allkeys-lru", "keys": [1, 2], "info": {"a": 1}},
            "policy allkeys-lru, keys 2 items, info 1 entries",
        ),
        (True, "yes"),
        (None, "none"),
        (0.5000000451855228, "0.5"),
        ("triton-server   up\n", "triton-server up"),
    ],
)
def test_summarize_gives_one_short_line(result, text):
    assert summarize(result) == text


@given(
    result=st.recursive(
        st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text()),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=8), children, max_size=4)
        ),
        max_leaves=20,
    )
)
def test_summarize_never_raises_and_stays_on_one_short_line(result):
    text = summarize(result)
    assert "\n" not in text
    assert len(text) <= 160


def test_offsets_are_relative_to_the_start():
    start = "2026-12-03T20:03:18Z"
    assert offset("2026-12-03T20:03:18Z", start) == "+0 s"
    assert offset("2026-12-03T20:03:30.4Z", start) == "+12 s"
    assert offset("2026-12-03T20:05:23Z", start) == "+2 min 05 s"
    assert offset("2026-12-03T21:05:18Z", start) == "+1 h 02 min"
    assert offset("2026-12-03T20:03:08Z", start) == "-10 s"
    assert offset("soon", start) == "soon"


# report.md ------------------------------------------------------------------------------------


def resolved_report() -> dict[str, Any]:
    """The report of a HighErrorRate run on the sandbox, as report.yml assembles it."""
    target = {"kind": "Deployment", "name": "nimify-api", "namespace": "nimify-system"}
    return {
        "run_id": "20261203T200316Z-higherrorrate-0fa9",
        "alert": "HighErrorRate",
        "system": "nimify",
        "role": "high_error_rate",
        "severity": "critical",
        "seed_severity": "SEV-1",
        "cluster": "sandbox",
        "target": target,
        "check_mode": False,
        "outcome": "resolved",
        "message": "HighErrorRate cleared after rollback",
        "findings": {
            "firing": True,
            "alerts": [{"alertname": "HighErrorRate"}],
            "metrics": {
                "error_ratio": 0.5000000451855228,
                "p95_latency": 0.2425000267184538,
                "dependency_up": 1.0,
                "memory_ratio": None,
            },
            "series": {},
            "workload": {
                "summary": {
                    "pods": 3,
                    "ready": 2,
                    "restarts": 4,
                    "oom_killed": ["nimify-api-1"],
                    "crash_looping": [],
                },
                "history": HISTORY,
                "metrics": POD_USAGE,
            },
            "probes": {},
        },
        "investigation": [
            {
                "step": "Check specific error types (kubectl logs | grep ERROR)",
                "result": {"ERROR": 6},
            },
            {"step": "Check recent deployments (kubectl rollout history)", "result": HISTORY},
            {"step": "Check dependencies", "result": "triton-server up"},
            {"step": "Check resource usage (kubectl top pods)", "result": POD_USAGE},
            {
                "step": "Error ratio and p95 latency",
                "result": "0.5000000451855228 5xx, p95 0.2425000267184538 s",
            },
        ],
        "decisions": [
            {
                "action": "rollback",
                "type": "rollout_undo",
                "description": "The current template rolled out within the window; roll it back.",
                "risky": False,
                "object": target,
                "params": {},
                "status": "applied",
                "held_reason": None,
            },
            {
                "action": "restart_triton",
                "type": "rollout_restart",
                "description": "Triton | down",
                "risky": True,
                "object": {"kind": "Deployment", "name": "triton", "namespace": "triton-system"},
                "params": {},
                "status": "held_back",
                "held_reason": "another run holds it",
            },
        ],
        "actions": [
            {
                "action": "rollback",
                "reason": "RolloutUndone",
                "object": target,
                "before": "revision 2",
                "after": "revision 3 (template of revision 1)",
                "changed": True,
                "check_mode": False,
                "at": "2026-12-03T20:03:30Z",
            }
        ],
        "verification": {
            "recovered": True,
            "seconds": 7.2,
            "query": 'ALERTS{alertname="HighErrorRate"}',
            "still_firing": [],
        },
        "silence_id": "45ee1688",
        "escalation": [{"to": "Engineering team lead", "after": "10m"}],
        "runbook_url": "docs/alerts.md#higherrorrate",
        "timeline": [
            {"at": "2026-12-03T20:03:18Z", "phase": "start", "event": "run started"},
            {"at": "2026-12-03T20:03:20Z", "phase": "assess", "event": "alert firing"},
            {"at": "2026-12-03T20:03:26Z", "phase": "decide", "event": "rollback"},
            {"at": "2026-12-03T20:03:40Z", "phase": "verify", "event": "alert cleared"},
            {"at": "2026-12-03T20:03:45Z", "phase": "report", "event": "resolved"},
        ],
        "started_at": "2026-12-03T20:03:18Z",
        "finished_at": "2026-12-03T20:03:45Z",
        "artifacts": {
            "report_json": "/runs/r/report.json",
            "report_md": "/runs/r/report.md",
            "chart": "/runs/r/chart.png",
            "chart_error": None,
            "audit_log": "/runs/r/audit.jsonl",
        },
    }


RESOLVED_MD = """\
# HighErrorRate (nimify) on sandbox: resolved

**Resolved**: HighErrorRate cleared after rollback.

| | |
| --- | --- |
| target | Deployment nimify-system/nimify-api |
| severity | critical (SEV-1) |
| started | 2026-12-03T20:03:18Z, took 27 s |
| run | `20261203T200316Z-higherrorrate-0fa9`, role `sre.runbooks.high_error_rate` |
| runbook | docs/alerts.md#higherrorrate |

## Findings

- alert firing: yes
- `error_ratio`: 50%
- `p95_latency`: 243 ms
- `dependency_up`: 1
- `memory_ratio`: no data
- pods: 2/3 ready, 4 restarts, OOMKilled: nimify-api-1

## Investigation

- **Check specific error types (kubectl logs \\| grep ERROR)**: ERROR 6
- **Check recent deployments (kubectl rollout history)**: 3 revisions, newest 2.2 min old \
(nvcr.io/nimify/nimify-api:1.5.0; before: nvcr.io/nimify/nimify-api:1.4.0)
- **Check dependencies**: triton-server up
- **Check resource usage (kubectl top pods)**: 2 pods, CPU 250m-300m, memory 120-130 MiB
- **Error ratio and p95 latency**: 0.5 5xx, p95 0.243 s

## Decisions

| action | status | object | why |
| --- | --- | --- | --- |
| rollback | applied | Deployment nimify-system/nimify-api | \
The current template rolled out within the window; roll it back. |
| restart_triton | held_back (risky) | Deployment triton-system/triton | \
Triton \\| down (held back: another run holds it) |

## Actions

- +12 s **rollback** on Deployment nimify-system/nimify-api: \
revision 2 -> revision 3 (template of revision 1)

## Verification

Recovered after 7.2 s: `ALERTS{alertname="HighErrorRate"}`

![HighErrorRate](chart.png)

## Timeline

- +0 s start: run started
- +2 s assess: alert firing
- +8 s decide: rollback
- +22 s verify: alert cleared
- +27 s report: resolved
"""


def test_report_md_of_a_resolved_run():
    assert render_markdown(resolved_report()) == RESOLVED_MD


def test_an_unresolved_run_says_whom_to_call_first_and_last():
    report = resolved_report()
    report.update(
        outcome="unresolved",
        message="no mitigation applies to the findings; escalate",
        verification={"recovered": False, "seconds": 300, "query": "ALERTS", "still_firing": [{}]},
    )
    text = render_markdown(report)
    lines = text.splitlines()
    assert lines[2] == (
        "**Not resolved: the alert still fires**: no mitigation applies to the findings; "
        "escalate. Escalate: Engineering team lead after 10m."
    )
    assert "Still firing after 5 min (1 alert): `ALERTS`" in lines
    assert lines[-3:] == ["## Escalation", "", "- after 10m: Engineering team lead"]


def test_a_run_that_stopped_early_says_what_did_not_run():
    report = resolved_report()
    report.update(
        outcome="refused",
        message="nimify-system is protected",
        findings={},
        investigation=[],
        decisions=[],
        actions=[],
        verification={"recovered": None, "seconds": None, "query": "q"},
        check_mode=True,
        artifacts={"chart": None, "chart_error": "Prometheus answered HTTP 503"},
    )
    text = render_markdown(report)
    assert "## Findings" not in text
    assert "- not run (refused)" in text
    assert "None: no rule applied." in text
    assert "- none" in text
    assert "Not run (refused)." in text
    assert "No chart: Prometheus answered HTTP 503." in text
    assert "| check mode | yes: nothing was changed |" in text


def test_every_outcome_has_a_first_sentence():
    for outcome in (
        "resolved",
        "not_firing",
        "planned",
        "mitigated",
        "unresolved",
        "approval_required",
        "failed",
        "refused",
        "locked",
        "cooldown",
        "budget",
    ):
        sentence = outcome_sentence({"outcome": outcome, "message": ""})
        assert sentence.startswith("**") and sentence.endswith(".")
        assert sentence != f"**{outcome}**."
    assert outcome_sentence({"outcome": "odd"}) == "**odd**."


def test_actions_in_check_mode_and_unchanged_ones_say_so():
    report = resolved_report()
    planned = dict(report["actions"][0], check_mode=True)
    unchanged = dict(report["actions"][0], changed=False)
    report["actions"] = [planned, unchanged]
    text = render_markdown(report)
    assert "(template of revision 1) (check mode: not applied)" in text
    assert "(template of revision 1) (already so, unchanged)" in text


# The chat update ------------------------------------------------------------------------------

RESOLVED_SLACK = """\
🚨 **ALERT**: HighErrorRate
📊 **Severity**: SEV-1
⏰ **Started**: 2026-12-03T20:02:00Z
🔍 **Status**: Resolved (resolved)
👤 **Assigned**: @oncall

**Actions taken**:
- [x] Initial assessment completed
- [x] Mitigation steps in progress
  - rollback on Deployment nimify-system/nimify-api: \
revision 2 -> revision 3 (template of revision 1)
- [ ] Root cause investigation ongoing

HighErrorRate cleared after rollback
**Run**: 20261203T200316Z-higherrorrate-0fa9 on sandbox"""


def test_slack_text_of_a_resolved_run():
    assert slack_text(resolved_report(), "oncall", "2026-12-03T20:02:00Z") == RESOLVED_SLACK


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("resolved", "Resolved"),
        ("planned", "Mitigation planned (check mode)"),
        ("locked", "Held back, still firing"),
        ("cooldown", "Held back, still firing"),
        ("budget", "Held back, still firing"),
        ("unresolved", "Escalated"),
        ("approval_required", "Escalated"),
        ("failed", "Escalated"),
        ("refused", "Escalated"),
        ("not_firing", "Investigating"),
        ("mitigated", "Investigating"),
    ],
)
def test_slack_statuses_are_seed_001s(outcome, status):
    assert slack_status(outcome) == status
    report = dict(resolved_report(), outcome=outcome, actions=[])
    text = slack_text(report, "oncall")
    assert f"🔍 **Status**: {status} ({outcome})" in text
    assert "- [ ] Mitigation steps in progress" in text
    assert "⏰ **Started**: 2026-12-03T20:03:18Z" in text  # the run's start without the alert's
    assert ("**Escalation**: Engineering team lead after 10m" in text) == (
        status in ("Escalated", "Held back, still firing")
    )


UNRESOLVED_SLACK = """\
🚨 **ALERT**: HighErrorRate
📊 **Severity**: SEV-1
⏰ **Started**: 2026-12-03T20:03:18Z
🔍 **Status**: Held back, still firing (cooldown)
👤 **Assigned**: @oncall

**Actions taken**:
- [x] Initial assessment completed
- [ ] Mitigation steps in progress
- [ ] Root cause investigation ongoing

rollback ran 2 min ago on Deployment nimify-system/nimify-api
**Escalation**: Engineering team lead after 10m, Director after 30m
**Run**: 20261203T200316Z-higherrorrate-0fa9 on sandbox"""


def test_slack_text_of_a_held_back_run_names_every_escalation_level():
    # Line for line what the role's Jinja template (roles/remediation/templates/slack.j2,
    # rendered with trim_blocks) wrote for the same run.
    report = resolved_report()
    report.update(
        outcome="cooldown",
        actions=[],
        message="rollback ran 2 min ago on Deployment nimify-system/nimify-api",
        escalation=[*report["escalation"], {"to": "Director", "after": "30m"}],
    )
    assert slack_text(report, "oncall") == UNRESOLVED_SLACK
