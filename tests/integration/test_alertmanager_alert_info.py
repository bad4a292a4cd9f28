"""sre.runbooks.alertmanager_alert_info against the real Alertmanager.

Alerts are injected with POST /api/v2/alerts, each with a label unique to this module's run, and
every query filters on that label because the Alertmanager is shared by the session.
"""

import datetime
import json
import urllib.request
import uuid

import pytest

from sre_runbooks.monitoring.servers import get_json, poll

pytestmark = pytest.mark.integration

MODULE = "sre.runbooks.alertmanager_alert_info"


def post(url, body):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response) if response.length else None


@pytest.fixture(scope="module")
def firing(alertmanager):
    """Two firing alerts; AmInfoDisk is silenced, AmInfoLatency is not."""
    scope = "alert-info-" + uuid.uuid4().hex[:12]
    now = datetime.datetime.now(datetime.UTC)
    ends = (now + datetime.timedelta(hours=1)).isoformat()
    post(
        f"{alertmanager.url}/api/v2/alerts",
        [
            {
                "labels": {
                    "alertname": "AmInfoLatency",
                    "runbook_test": scope,
                    "severity": "warning",
                },
                "annotations": {"summary": "slow"},
                "startsAt": now.isoformat(),
                "endsAt": ends,
                "generatorURL": "http://prometheus.test/graph?g0.expr=latency",
            },
            {
                "labels": {
                    "alertname": "AmInfoDisk",
                    "runbook_test": scope,
                    "severity": "critical",
                },
                "annotations": {"summary": "full"},
                "startsAt": now.isoformat(),
                "endsAt": ends,
            },
        ],
    )
    silence_id = post(
        f"{alertmanager.url}/api/v2/silences",
        {
            "matchers": [
                {"name": "runbook_test", "value": scope, "isRegex": False, "isEqual": True},
                {"name": "alertname", "value": "AmInfoDisk", "isRegex": False, "isEqual": True},
            ],
            "startsAt": now.isoformat(),
            "endsAt": ends,
            "createdBy": "test",
            "comment": "alert_info test",
        },
    )["silenceID"]

    def both_processed():
        alerts = get_json(
            f"{alertmanager.url}/api/v2/alerts", {"filter": f'runbook_test="{scope}"'}
        )
        states = {a["labels"]["alertname"]: a["status"]["state"] for a in alerts}
        return states == {"AmInfoLatency": "active", "AmInfoDisk": "suppressed"}

    assert poll(both_processed, timeout=15), "Alertmanager did not process the injected alerts"
    return {"scope": scope, "silence_id": silence_id, "url": alertmanager.url}


def names(result):
    return sorted(a["labels"]["alertname"] for a in result["alerts"])


def test_alertname_filter_returns_that_alert_with_every_field(ansible_module, firing):
    result = ansible_module(
        MODULE,
        {
            "url": firing["url"],
            "alertname": "AmInfoLatency",
            "matchers": [f'runbook_test="{firing["scope"]}"'],
        },
    )
    assert result["changed"] is False
    [alert] = result["alerts"]
    assert alert["labels"] == {
        "alertname": "AmInfoLatency",
        "runbook_test": firing["scope"],
        "severity": "warning",
    }
    assert alert["annotations"] == {"summary": "slow"}
    assert alert["status"] == {"state": "active", "silenced_by": [], "inhibited_by": []}
    assert alert["receivers"] == ["default"]
    assert alert["generator_url"] == "http://prometheus.test/graph?g0.expr=latency"
    assert len(alert["fingerprint"]) == 16
    assert alert["starts_at"] < alert["ends_at"]
    assert alert["updated_at"]


def test_matchers_in_string_and_dict_form_filter_alerts(ansible_module, firing):
    result = ansible_module(
        MODULE,
        {
            "url": firing["url"],
            "matchers": [
                {"name": "runbook_test", "value": firing["scope"]},
                'severity=~"crit.*"',
            ],
        },
    )
    assert names(result) == ["AmInfoDisk"]


def test_silenced_alerts_are_included_or_left_out_on_request(ansible_module, firing):
    scope = [f"runbook_test={firing['scope']}"]
    everything = ansible_module(MODULE, {"url": firing["url"], "matchers": scope})
    assert names(everything) == ["AmInfoDisk", "AmInfoLatency"]

    not_silenced = ansible_module(
        MODULE, {"url": firing["url"], "matchers": scope, "silenced": False}
    )
    assert names(not_silenced) == ["AmInfoLatency"]

    only_silenced = ansible_module(
        MODULE, {"url": firing["url"], "matchers": scope, "active": False, "silenced": True}
    )
    [alert] = only_silenced["alerts"]
    assert alert["labels"]["alertname"] == "AmInfoDisk"
    assert alert["status"]["state"] == "suppressed"
    assert alert["status"]["silenced_by"] == [firing["silence_id"]]


def test_receiver_filter_and_check_mode_change_nothing(ansible_module, firing):
    scope = [f"runbook_test={firing['scope']}"]
    routed = ansible_module(
        MODULE, {"url": firing["url"], "matchers": scope, "receiver": "def.*"}, check=True
    )
    assert routed["changed"] is False
    assert names(routed) == ["AmInfoDisk", "AmInfoLatency"]
    nowhere = ansible_module(MODULE, {"url": firing["url"], "matchers": scope, "receiver": "pager"})
    assert nowhere["alerts"] == []


def test_an_invalid_matcher_fails_before_any_request(ansible_module, firing):
    result = ansible_module(MODULE, {"url": firing["url"], "matchers": ["severity"]})
    assert result["failed"] is True
    assert result["msg"].startswith("matchers[0]: invalid matcher 'severity': use name=")
