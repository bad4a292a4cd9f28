"""The harness gives tests real Prometheus and Alertmanager servers with exact data."""

import json
import os
import time
from pathlib import Path

import pytest

from sre_runbooks import cli
from sre_runbooks.monitoring import AlertmanagerServer, PrometheusServer, ServerError
from sre_runbooks.monitoring.servers import get_json, pid_alive, poll

pytestmark = pytest.mark.integration

# Whole minutes, an hour ago: inside the retention, outside the head block's time range.
T0 = (int(time.time()) // 60) * 60 - 3600


def test_backfilled_series_reads_back_exactly(prometheus_factory):
    series = "\n".join(
        f'demo_requests_total{{job="api",status="500"}} {value} {T0 + 60 * i}'
        for i, value in enumerate([10, 12.5, 40, 1e-9])
    )
    prometheus = prometheus_factory(series=series)

    at_second = prometheus.query('demo_requests_total{job="api"}', at=T0 + 60)
    assert at_second == [
        {
            "metric": {"__name__": "demo_requests_total", "job": "api", "status": "500"},
            "value": [T0 + 60, "12.5"],
        }
    ]
    body = get_json(
        f"{prometheus.url}/api/v1/query_range",
        {"query": "demo_requests_total", "start": str(T0), "end": str(T0 + 180), "step": "60"},
    )
    values = body["data"]["result"][0]["values"]
    assert values == [[T0, "10"], [T0 + 60, "12.5"], [T0 + 120, "40"], [T0 + 180, "1e-09"]]


def test_scraped_value_changes_when_the_target_changes(prometheus_factory, metrics_target):
    metrics_target.set("queue_depth 42.25\n")
    prometheus = prometheus_factory(
        scrape_configs=[
            {"job_name": "demo", "static_configs": [{"targets": [metrics_target.address]}]}
        ]
    )
    prometheus.wait_for_targets()

    def value_is(expected: str) -> bool:
        result = prometheus.query("queue_depth")
        return bool(result) and result[0]["value"][1] == expected

    assert poll(lambda: value_is("42.25"), timeout=15)
    metrics_target.set("queue_depth 7\n")
    assert poll(lambda: value_is("7"), timeout=15)


def test_rule_fires_and_reaches_alertmanager(
    prometheus_factory, metrics_target, alertmanager, tmp_path
):
    rules = tmp_path / "rules.yml"
    rules.write_text(
        json.dumps(
            {
                "groups": [
                    {
                        "name": "harness",
                        "rules": [
                            {
                                "alert": "HarnessQueueFull",
                                "expr": "queue_depth > 100",
                                "labels": {"severity": "info", "harness_run": tmp_path.name},
                            }
                        ],
                    }
                ]
            }
        )
    )
    metrics_target.set("queue_depth 5\n")
    prometheus = prometheus_factory(
        rule_files=[rules],
        alertmanager_urls=[alertmanager.url],
        scrape_configs=[
            {"job_name": "demo", "static_configs": [{"targets": [metrics_target.address]}]}
        ],
    )
    prometheus.wait_for_targets()
    assert prometheus.alerts() == []

    metrics_target.set("queue_depth 500\n")

    def in_alertmanager() -> bool:
        alerts = get_json(
            f"{alertmanager.url}/api/v2/alerts",
            {"filter": f'harness_run="{tmp_path.name}"'},
        )
        return any(a["labels"]["alertname"] == "HarnessQueueFull" for a in alerts)

    assert poll(in_alertmanager, timeout=30, interval=0.2)


def test_stop_ends_the_process_by_pid(tmp_path):
    server = AlertmanagerServer(tmp_path / "am").start()
    pid = server.pid
    assert pid_alive(pid, str(tmp_path), started=server.state()["started"])
    # Same PID and marker but another start time: a process that reused the PID, not ours.
    assert not pid_alive(pid, str(tmp_path), started=server.state()["started"] + 1)
    server.stop()
    assert not pid_alive(pid, str(tmp_path))


def test_bad_configuration_fails_with_the_servers_own_message(tmp_path):
    bad_rules = tmp_path / "bad.yml"
    bad_rules.write_text("groups: [{name: x, rules: [{alert: X, expr: 'sum(('}]}]\n")
    server = PrometheusServer(tmp_path / "prom", rule_files=[bad_rules])
    with pytest.raises(ServerError, match="exited with code") as failure:
        server.start()
    assert "parse error" in str(failure.value)
    assert server.process.poll() is not None


def test_command_up_is_idempotent_and_down_stops_exactly_its_processes(tmp_path, capsys):
    state_dir = tmp_path / "monitoring"
    args = ["monitoring", "up", "--state-dir", str(state_dir), "--json"]
    assert cli.main(args) == 0
    first = json.loads(capsys.readouterr().out)
    assert cli.main(args) == 0
    second = json.loads(capsys.readouterr().out)
    pids = {first[name]["pid"] for name in ("prometheus", "alertmanager")}
    assert pids == {second[name]["pid"] for name in ("prometheus", "alertmanager")}
    # The collection's own rules are loaded by default.
    groups = get_json(f"{first['prometheus']['url']}/api/v1/rules")["data"]["groups"]
    assert {Path(g["file"]).name for g in groups} == {
        p.name for p in (Path(__file__).parents[2] / "prometheus" / "rules").glob("*.yml")
    }

    assert cli.main(["monitoring", "down", "--state-dir", str(state_dir)]) == 0
    assert "stopped: prometheus, alertmanager" in capsys.readouterr().out
    assert not any(pid_alive(pid, str(state_dir)) for pid in pids)
    assert cli.main(["monitoring", "status", "--state-dir", str(state_dir)]) == 1


def test_missing_binary_is_named_with_what_was_looked_for(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("PATH", os.devnull)
    assert cli.main(["monitoring", "up", "--state-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "not found: looked for alertmanager, prometheus-alertmanager on PATH" in error
