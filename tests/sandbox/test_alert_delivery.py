"""Every scenario's alert reaches Alertmanager as soon as Prometheus fires it.

One sandbox serves every scenario: inject, wait until Prometheus fires the alert, check that
Alertmanager lists it within DELIVERY_BOUND, clear. Right after `runbook sandbox up`, ServiceDown
is injected at once, as a user following `up` with `inject --wait` does: its absent() rule fires
before Prometheus knows its Alertmanager, so this is where an undelivered alert would show.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scenario_helpers import DEADLINE, runbook, sandbox_up

from sre_runbooks.monitoring.binaries import MissingBinaryError, find_binary
from sre_runbooks_sandbox.control import SCRAPE_INTERVAL, clear, inject
from sre_runbooks_sandbox.workloads import SCENARIOS

pytestmark = [pytest.mark.k8s, pytest.mark.integration]

# Prometheus sends an alert to Alertmanager in the rule evaluation that fires it and, should that
# fail, again after its resend delay; the sandbox evaluates every SCRAPE_INTERVAL and resends
# after the same time (Prometheus' own default is 1m). Right after start, its service discovery
# hands the Alertmanager to its notifier after SD_UPDATE (fixed in Prometheus); an alert that
# fired before then is delivered with the first resend after it. Three evaluation-and-resend
# cycles on top leave room for a loaded machine and stay far below the minute an undelivered
# alert used to wait.
SD_UPDATE = 5.0
CYCLE = 2 * float(SCRAPE_INTERVAL.removesuffix("s"))  # evaluation interval + resend delay
DELIVERY_BOUND = SD_UPDATE + 3 * CYCLE
POLL = 0.1


try:
    find_binary("prometheus"), find_binary("alertmanager")
except MissingBinaryError as missing:
    pytestmark.append(pytest.mark.skip(reason=str(missing)))


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def _firing_in_prometheus(prometheus: str, alert: str, system: str) -> bool:
    return any(
        a["state"] == "firing"
        and a["labels"].get("alertname") == alert
        and a["labels"].get("system") == system
        for a in _get(f"{prometheus}/api/v1/alerts")["data"]["alerts"]
    )


def _listed_by_alertmanager(alertmanager: str, alert: str, system: str) -> bool:
    query = urllib.parse.urlencode(
        [("filter", f'alertname="{alert}"'), ("filter", f'system="{system}"')]
    )
    return any(
        a["status"]["state"] in {"active", "suppressed"}
        for a in _get(f"{alertmanager}/api/v2/alerts?{query}")
    )


def _delivery(state: dict[str, Any], alert: str, system: str) -> tuple[float, float | None]:
    """Inject the scenario; seconds until Prometheus fires it, then until Alertmanager lists it.

    The second figure is None when Alertmanager did not list it within DELIVERY_BOUND.
    """
    start = time.monotonic()
    inject(state["state_dir_path"], alert, system)
    prometheus, alertmanager = state["prometheus_url"], state["alertmanager_url"]
    while not _firing_in_prometheus(prometheus, alert, system):
        assert time.monotonic() - start < DEADLINE, f"{alert} ({system}) did not fire"
        time.sleep(POLL)
    fired = time.monotonic()
    while not _listed_by_alertmanager(alertmanager, alert, system):
        if time.monotonic() - fired > DELIVERY_BOUND:
            return fired - start, None
        time.sleep(POLL)
    return fired - start, time.monotonic() - fired


@pytest.fixture(scope="module")
def delivery_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A fresh sandbox, with how long ServiceDown injected at once took to reach Alertmanager."""
    state_dir: Path = tmp_path_factory.mktemp("delivery-state")
    try:
        state = sandbox_up(state_dir)
        state["state_dir_path"] = state_dir
        state["first"] = _delivery(state, "ServiceDown", "nimify")
        clear(state_dir)
        yield state
    finally:
        runbook("sandbox", "down", "--state-dir", str(state_dir))


def test_an_alert_firing_right_after_up_reaches_alertmanager(
    delivery_sandbox: dict[str, Any],
) -> None:
    _, delivered = delivery_sandbox["first"]
    assert delivered is not None, (
        f"ServiceDown fired but Alertmanager did not list it within {DELIVERY_BOUND} s"
    )


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_scenario_alert_reaches_alertmanager_once_it_fires(
    delivery_sandbox: dict[str, Any], key: str
) -> None:
    alert, system = key.split("/")
    try:
        _, delivered = _delivery(delivery_sandbox, alert, system)
        assert delivered is not None, (
            f"{key} fired but Alertmanager did not list it within {DELIVERY_BOUND} s"
        )
    finally:
        clear(delivery_sandbox["state_dir_path"])
