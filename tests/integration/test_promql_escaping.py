"""Alert label values in PromQL queries, against the real Prometheus: a value is a value.

A job label such as ``x"} or vector(1) or up{job="`` would turn a query built by pasting it into
``up{job="x"} or vector(1) or up{job=""}``. Built with the sre.runbooks.promql_* filters (as the
remediation contract builds its ALERTS query), the query selects exactly the series whose label
has that literal value. The alert labels reach the playbook as the launcher passes them: one
``!unsafe`` extra variables file.
"""

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils.alertmanager import normalize_matchers
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import promql_string
from ansible_collections.sre.runbooks.plugins.plugin_utils._engine import silence_matchers
from hypothesis import given, settings
from hypothesis import strategies as st

from sre_runbooks.monitoring import PrometheusServer, backfill
from sre_runbooks.run import extravars_text

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
INJECTION = 'x"} or vector(1) or up{job="'
T0 = (int(time.time()) // 60) * 60 - 3600
ALERT = 'alertname="PodRestart",alertstate="firing",namespace="nimify-system",system="nimify"'


def _openmetrics(value: str) -> str:
    """A label value as OpenMetrics text writes it (for backfilling)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


SERIES = "\n".join(
    f"{name}{{{labels}}} {number} {T0}"
    for name, labels, number in [
        ("esc_up", f'job="{_openmetrics(INJECTION)}"', 1),
        ("esc_up", 'job="x"', 2),
        ("esc_up", 'job=""', 3),
        ("esc_up", 'job="api"', 4),
        ("ALERTS", f'{ALERT},job="{_openmetrics(INJECTION)}"', 1),
        ("ALERTS", f'{ALERT},job="x"', 1),
        ("ALERTS", f'{ALERT},job="api"', 1),
    ]
)


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = PrometheusServer(tmp_path_factory.mktemp("promql-escaping"))
    backfill(SERIES, server.data_dir)
    with server:
        yield server


def instant(prometheus: PrometheusServer, query: str, at: int | None = None) -> list[dict]:
    """The result of an instant query, asked over HTTP as any client would."""
    form = {"query": query, **({"time": str(at)} if at is not None else {})}
    request = urllib.request.Request(
        f"{prometheus.url}/api/v1/query",
        data=urllib.parse.urlencode(form).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        document = json.load(answer)
    assert document["status"] == "success", document
    return document["data"]["result"]


def test_the_value_pasted_into_a_query_would_change_it(prometheus):
    pasted = f'esc_up{{job="{INJECTION}"}}'
    assert pasted == 'esc_up{job="x"} or vector(1) or up{job=""}'
    assert len(instant(prometheus, pasted, T0)) == 2  # the job="x" series, and vector(1)


@pytest.fixture(scope="module")
def played(prometheus, tmp_path_factory, ansible_cli) -> dict[str, dict[str, Any]]:
    """One playbook: the filter in a query, and the remediation contract's firing query."""
    directory = tmp_path_factory.mktemp("escaping-playbook")
    extravars = directory / "extravars"
    extravars.write_text(extravars_text({"alert_labels": {"job": INJECTION}}))
    query = {"url": prometheus.url, "time": T0}
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        # What an alert role passes to the contract (roles/pod_restart/tasks/main.yml), plus job.
        "vars": {
            "remediation_alert": "PodRestart",
            "remediation_system": "nimify",
            "remediation_alert_labels": {
                "namespace": "nimify-system",
                "job": "{{ alert_labels.job }}",
            },
        },
        "tasks": [
            {
                "name": "selector",
                "sre.runbooks.prometheus_query": {
                    **query,
                    "query": "{{ alert_labels | sre.runbooks.promql_selector('esc_up') }}",
                },
            },
            {
                "name": "string",
                "sre.runbooks.prometheus_query": {
                    **query,
                    "query": "esc_up{job={{ alert_labels.job | sre.runbooks.promql_string }}}",
                },
            },
            {
                "name": "contract vars",
                "ansible.builtin.include_vars": {
                    "file": str(REPO_ROOT / "roles" / "remediation" / "vars" / "main.yml")
                },
            },
            {
                "name": "firing",
                "sre.runbooks.prometheus_query": {
                    **query,
                    "queries": {"firing": "{{ remediation_firing_query }}"},
                },
            },
            {
                "name": "matchers",
                "ansible.builtin.debug": {"var": "_remediation_alert_selector_labels"},
            },
        ],
    }
    playbook = directory / "playbook.yml"
    playbook.write_text(json.dumps([play]))
    completed = ansible_cli(
        "ansible-playbook",
        str(playbook),
        "-e",
        f"@{extravars}",
        env={
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        },
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return {
        task["task"]["name"]: dict(task["hosts"]["localhost"])
        for task in json.loads(completed.stdout)["plays"][0]["tasks"]
    }


def test_a_selector_built_by_the_filter_selects_exactly_the_literal_value(played):
    for task in ("selector", "string"):
        assert played[task]["results"] == [
            {"labels": {"__name__": "esc_up", "job": INJECTION}, "value": 1.0}
        ], task


def test_the_contracts_firing_query_selects_exactly_the_alert_with_the_literal_value(played):
    (series,) = played["firing"]["results"]["firing"]
    assert series["labels"]["job"] == INJECTION
    assert series["labels"]["alertname"] == "PodRestart"


def test_the_contracts_silence_matchers_are_data(played):
    labels = played["matchers"]["_remediation_alert_selector_labels"]
    run = {"alert": labels.pop("alertname"), "system": labels.pop("system"), "alert_labels": labels}
    matchers = silence_matchers(run)
    assert sorted(matchers, key=lambda m: m["name"]) == [
        {"name": "alertname", "value": "PodRestart", "is_regex": False},
        {"name": "job", "value": INJECTION, "is_regex": False},
        {"name": "namespace", "value": "nimify-system", "is_regex": False},
        {"name": "system", "value": "nimify", "is_regex": False},
    ]
    # The silence module's own validation takes them as they are: a literal value, not a
    # matcher text to parse.
    job = next(m for m in normalize_matchers(matchers) if m["name"] == "job")
    assert (job["value"], job["isRegex"]) == (INJECTION, False)


@pytest.mark.parametrize(
    "value", [INJECTION, "\\", "\n", "\ufffd", "\x00", "a\u2028b", "é😀", "`", "' or 1"]
)
def test_prometheus_reads_each_escaped_value_back(prometheus, value):
    (series,) = instant(prometheus, f"absent(esc_never_written{{v={promql_string(value)}}})")
    assert series["metric"] == {"v": value}


# absent() of a selector that matches nothing returns one series with the labels of its
# equality matchers: the value Prometheus' parser read from the string literal.
@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_for_any_utf8_value_the_parsed_matcher_value_is_the_input(prometheus, value):
    (series,) = instant(prometheus, f"absent(esc_never_written{{v={promql_string(value)}}})")
    assert series["metric"] == {"v": value}
