"""The sre.runbooks.promql lookup in a real playbook against a real, backfilled Prometheus.

One playbook run (module scope) holds every successful case, one task each; the tests read the
task results by name. Failures run as their own ad-hoc tasks.
"""

import json
import math
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sre_runbooks.monitoring import PrometheusServer, backfill

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
T0 = (int(time.time()) // 60) * 60 - 3600
T2 = T0 + 120

SERIES = "\n".join(
    [
        *(f'lk_depth{{queue="jobs"}} {v} {T0 + 60 * i}' for i, v in enumerate([10, 12.5, 40])),
        *(f'lk_ratio{{pod="a"}} {v} {T0 + 60 * i}' for i, v in enumerate([0.1, 0.2, 0.25])),
        *(f'lk_ratio{{pod="b"}} {v} {T0 + 60 * i}' for i, v in enumerate([0.5, 0.4, 0.03])),
        *(f'lk_odd{{kind="nan"}} NaN {T0 + 60 * i}' for i in range(3)),
    ]
)


def _lookup(expr: str, **options: str) -> str:
    """The Jinja call of the lookup for one term; option values are Jinja expressions."""
    assert "'" not in expr  # the term goes into a single-quoted Jinja string
    extra = "".join(f", {name}={value}" for name, value in options.items())
    return f"lookup('sre.runbooks.promql', '{expr}'{extra})"


def _show(expression: str) -> dict[str, Any]:
    """A debug task whose msg is the value of one Jinja expression, type preserved."""
    return {"debug": {"msg": "{{ " + expression + " }}"}}


# name -> task; every lookup uses url=prom_url unless it tests the environment fallback.
TASKS: dict[str, dict[str, Any]] = {
    "single series": _show(_lookup("lk_depth", url="prom_url", time="at")),
    "scalar": _show(_lookup("scalar(lk_depth) / 4", url="prom_url", time="at")),
    "several series": _show(_lookup("lk_ratio", url="prom_url", time="at")),
    "empty vector": _show(_lookup("lk_absent", url="prom_url")),
    "string": _show(_lookup('"runbook"', url="prom_url")),
    "nan": _show(_lookup('lk_odd{kind="nan"}', url="prom_url", time="at")),
    "float filter compares": _show(_lookup("vector(3)", url="prom_url") + " | float > 2"),
    "when true": {
        "debug": {"msg": "ran"},
        "when": _lookup("vector(3)", url="prom_url") + " | float > 2",
    },
    "when false": {
        "debug": {"msg": "ran"},
        "when": _lookup("vector(1)", url="prom_url") + " | float > 2",
    },
    "query one list per term": _show(
        "query('sre.runbooks.promql', 'lk_depth', 'lk_ratio', 'lk_absent', url=prom_url, time=at)"
    ),
    "relative time": _show(_lookup("time()", url="prom_url", time="'now-1h'")),
    "url from environment": _show(_lookup("vector(7)")),
}


def _environment(prometheus_url: str) -> dict[str, str]:
    return {
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "PROMETHEUS_URL": prometheus_url,
    }


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    server = PrometheusServer(tmp_path_factory.mktemp("promql-lookup"))
    backfill(SERIES, server.data_dir)
    with server:
        yield server


@pytest.fixture(scope="module")
def tasks(
    prometheus, tmp_path_factory: pytest.TempPathFactory, ansible_cli
) -> dict[str, dict[str, Any]]:
    """Run the playbook of TASKS once; each task's result by task name."""
    playbook = tmp_path_factory.mktemp("playbook") / "lookups.yml"
    play = {
        "hosts": "localhost",
        "gather_facts": False,
        "vars": {"prom_url": prometheus.url, "at": T2},
        "tasks": [{"name": name, **body} for name, body in TASKS.items()],
    }
    playbook.write_text(json.dumps([play]))  # JSON is YAML
    started = time.time()
    completed = ansible_cli("ansible-playbook", str(playbook), env=_environment(prometheus.url))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    results = {
        task["task"]["name"]: dict(task["hosts"]["localhost"])
        for task in json.loads(completed.stdout)["plays"][0]["tasks"]
    }
    results["_run"] = {"started": started, "finished": time.time()}
    return results


def test_single_series_is_a_float(tasks):
    assert tasks["single series"]["msg"] == 40.0


def test_scalar_is_a_float(tasks):
    assert tasks["scalar"]["msg"] == 10.0


def test_several_series_are_a_list_of_labels_and_values(tasks):
    assert sorted(tasks["several series"]["msg"], key=lambda s: s["labels"]["pod"]) == [
        {"labels": {"__name__": "lk_ratio", "pod": "a"}, "value": 0.25},
        {"labels": {"__name__": "lk_ratio", "pod": "b"}, "value": 0.03},
    ]


def test_empty_vector_is_an_empty_list(tasks):
    assert tasks["empty vector"]["msg"] == []


def test_string_result_is_the_string(tasks):
    assert tasks["string"]["msg"] == "runbook"


def test_nan_is_the_string_nan_that_the_float_filter_reads(tasks):
    assert tasks["nan"]["msg"] == "NaN"
    assert math.isnan(float(tasks["nan"]["msg"]))


def test_single_value_compares_in_templates_and_when_conditions(tasks):
    assert tasks["float filter compares"]["msg"] is True
    assert tasks["when true"]["msg"] == "ran"
    assert tasks["when false"].get("skipped") is True


def test_query_returns_one_element_per_term(tasks):
    depth, ratio, absent = tasks["query one list per term"]["msg"]
    assert depth == 40.0
    assert len(ratio) == 2
    assert absent == []


def test_relative_time_is_resolved_on_the_controller_clock(tasks):
    evaluated_at = tasks["relative time"]["msg"]
    run = tasks["_run"]
    assert run["started"] - 3600 - 1 <= evaluated_at <= run["finished"] - 3600 + 1


def test_url_falls_back_to_the_environment(tasks):
    assert tasks["url from environment"]["msg"] == 7.0


def test_bad_query_fails_the_task_with_prometheus_message(prometheus, ansible_module):
    result = ansible_module(
        "ansible.builtin.debug",
        _show(_lookup("sum(rate(x[5m]", url=f"'{prometheus.url}'"))["debug"],
    )
    assert result["failed"] is True
    assert (
        f"The lookup plugin 'sre.runbooks.promql' failed: Failed to run query 'sum(rate(x[5m]': "
        f"{prometheus.url}/api/v1/query answered HTTP 400: bad_data: "
    ) in result["msg"]
    assert "parse error" in result["msg"]


def test_bad_time_fails_the_task_naming_the_accepted_forms(prometheus, ansible_module):
    result = ansible_module(
        "ansible.builtin.debug",
        _show(_lookup("up", url=f"'{prometheus.url}'", time="'yesterday'"))["debug"],
    )
    assert result["failed"] is True
    assert "time: 'yesterday' is not a time; give unix seconds" in result["msg"]
