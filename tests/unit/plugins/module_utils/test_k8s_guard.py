"""The pure decisions of the remediation guard: Lease holders, takeovers, cooldowns, Events."""

import datetime
import json

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_guard import (
    COOLDOWN_ANNOTATION,
    cooldown_remaining,
    event_body,
    last_mitigation,
    lease_holder,
    lease_name,
    lease_spec,
    micro_time,
    parse_time,
)

NOW = datetime.datetime(2026, 11, 23, 12, 0, 0, tzinfo=datetime.UTC)


def _lease(holder, renewed_seconds_ago, duration=30):
    renewed = NOW - datetime.timedelta(seconds=renewed_seconds_ago)
    return {
        "spec": {
            "holderIdentity": holder,
            "renewTime": micro_time(renewed),
            "leaseDurationSeconds": duration,
        }
    }


def test_a_renewed_lease_has_its_holder():
    assert lease_holder(_lease("run-a", 10), NOW) == "run-a"


def test_an_expired_or_empty_lease_has_no_holder():
    assert lease_holder(_lease("run-a", 30), NOW) is None
    assert lease_holder(_lease(None, 1), NOW) is None
    assert lease_holder(None, NOW) is None
    assert lease_holder({"spec": {"holderIdentity": "x", "leaseDurationSeconds": 30}}, NOW) is None


def test_taking_over_counts_a_transition_and_renewing_does_not():
    spec = lease_spec("run-b", 900, NOW, {"holderIdentity": "run-a", "leaseTransitions": 2})
    assert spec["leaseTransitions"] == 3
    assert spec["holderIdentity"] == "run-b"
    assert spec["acquireTime"] == spec["renewTime"] == "2026-11-23T12:00:00.000000Z"
    assert lease_spec("run-b", 900, NOW, {"holderIdentity": "run-b"})["leaseTransitions"] == 0
    assert (
        lease_spec("run-b", 900, NOW, {"holderIdentity": None, "leaseTransitions": 1})[
            "leaseTransitions"
        ]
        == 1
    )


def test_lease_names_stay_valid_for_long_targets():
    assert lease_name("Deployment", "nimify-api") == "sre-runbooks-deployment-nimify-api"
    long = lease_name("StatefulSet", "a" * 253)
    assert len(long) == 253
    assert long != lease_name("StatefulSet", "a" * 252)


def test_cooldown_from_the_target_annotation():
    stamp = {"at": micro_time(NOW - datetime.timedelta(seconds=100)), "run": "r"}
    target = {"metadata": {"annotations": {COOLDOWN_ANNOTATION: json.dumps(stamp)}}}
    assert last_mitigation(target) == stamp
    assert cooldown_remaining(stamp, 900, NOW) == 801
    assert cooldown_remaining(stamp, 100, NOW) == 0
    assert cooldown_remaining(stamp, 0, NOW) == 0
    assert cooldown_remaining(None, 900, NOW) == 0


def test_unreadable_stamps_are_ignored():
    for raw in ("not json", "[1, 2]", ""):
        assert last_mitigation({"metadata": {"annotations": {COOLDOWN_ANNOTATION: raw}}}) is None
    assert cooldown_remaining({"at": "yesterday"}, 900, NOW) == 0
    assert parse_time("2026-11-23T12:00:00Z") == NOW


def test_event_names_the_alert_the_action_and_before_after():
    record = {
        "action": "rollback",
        "reason": "Rollout Undone!",
        "object": {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"},
        "before": "revision 2",
        "after": "revision 3",
    }
    event = event_body(record, "run-1", "HighErrorRate", NOW)
    assert event["reportingController"] == "sre.runbooks"
    assert event["reason"] == "RolloutUndone"
    assert event["regarding"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "namespace": "nimify-system",
        "name": "nimify-api",
    }
    assert event["note"] == "HighErrorRate: rollback: revision 2 -> revision 3 (run run-1)"
    assert event["metadata"]["name"].startswith("nimify-api.")
    assert event["eventTime"] == "2026-11-23T12:00:00.000000Z"
