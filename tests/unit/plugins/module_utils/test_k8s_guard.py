"""The pure decisions of the remediation guard: Lease holders, takeovers, cooldowns, Events."""

import datetime
import json

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_guard import (
    MITIGATIONS_ANNOTATION,
    Limits,
    distinct_objects,
    event_body,
    hold_back,
    hold_message,
    lease_holder,
    lease_name,
    lease_spec,
    micro_time,
    mitigation_history,
    parse_time,
    with_mitigation,
)
from hypothesis import given
from hypothesis import strategies as st

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


def _entry(alert, seconds_ago, run="r", actions=("scale_up",)):
    at = micro_time(NOW - datetime.timedelta(seconds=seconds_ago))
    return {"at": at, "alert": alert, "run": run, "actions": list(actions)}


def _annotated(entries):
    return {"metadata": {"annotations": {MITIGATIONS_ANNOTATION: json.dumps(entries)}}}


DEPLOYMENT = {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"}


def test_history_is_read_oldest_first_from_the_annotation():
    newer, older = _entry("HighErrorRate", 10), _entry("ServiceDown", 100)
    assert mitigation_history(_annotated([newer, older])) == [older, newer]
    assert mitigation_history({"metadata": {}}) == []


def test_unreadable_history_is_ignored():
    for raw in ("not json", '{"at": "x"}', "", "[1, 2]"):
        target = {"metadata": {"annotations": {MITIGATIONS_ANNOTATION: raw}}}
        assert mitigation_history(target) == []
    assert mitigation_history(_annotated([{"at": "yesterday"}, _entry("A", 5)])) == [_entry("A", 5)]
    assert parse_time("2026-11-23T12:00:00Z") == NOW


def test_the_same_alert_is_held_back_within_its_cooldown():
    history = [_entry("HighErrorRate", 100)]
    hold = hold_back(history, "HighErrorRate", NOW, Limits(900, 900))
    assert hold["outcome"] == "cooldown"
    assert hold["remaining"] == 801
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 100)) is None
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 0)) is None


def test_another_alerts_cure_does_not_hold_back_a_different_cure():
    """ServiceDown scaled the Deployment back up; HighErrorRate's rollback must still run."""
    history = [_entry("ServiceDown", 30)]
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 900, 3, 3600)) is None


def test_the_budget_stops_a_flapping_object_whatever_the_alerts():
    history = [_entry("ServiceDown", 3000), _entry("HighLatency", 2000), _entry("PodRestart", 60)]
    hold = hold_back(history, "HighErrorRate", NOW, Limits(900, 900, 3, 3600))
    assert hold["outcome"] == "budget"
    assert hold["count"] == 3
    # Free again once the oldest of the three leaves the window.
    assert hold["remaining"] == 601
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 900, 4, 3600)) is None
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 900, 3, 2500)) is None
    assert hold_back(history, "HighErrorRate", NOW, Limits(900, 900, 0, 3600)) is None


def test_hold_messages_say_who_did_what_and_for_how_long():
    history = [_entry("HighErrorRate", 100, run="run-a", actions=("rollout_undo",))]
    hold = hold_back(history, "HighErrorRate", NOW, Limits(900, 900))
    text = hold_message(hold, "HighErrorRate", DEPLOYMENT)
    assert "Deployment nimify-system/nimify-api" in text
    assert "run-a" in text
    assert "rollout_undo" in text
    assert "801 s" in text
    budget = hold_back(history * 3, "Other", NOW, Limits(900, 900, 3, 3600))
    assert "budget exhausted" in hold_message(budget, "Other", DEPLOYMENT, 3600)


def test_recording_keeps_only_what_a_window_still_needs():
    history = [_entry("A", 5000), _entry("B", 100)]
    new = _entry("C", 0)
    assert with_mitigation(history, new, NOW, 3600) == [history[1], new]
    assert len(with_mitigation([_entry("A", 1)] * 30, new, NOW, 3600, limit=20)) == 20


def test_objects_are_taken_once_each_and_the_target_is_left_out():
    other = {"kind": "Deployment", "namespace": "triton-system", "name": "triton-server"}
    found = distinct_objects([dict(DEPLOYMENT, extra=1), other, other], exclude=[DEPLOYMENT])
    assert found == [other]


ALERTS = st.sampled_from(["HighErrorRate", "ServiceDown", "HighLatency", "PodRestart"])


@given(
    st.lists(st.tuples(ALERTS, st.integers(min_value=0, max_value=7200)), max_size=8),
    ALERTS,
    st.integers(min_value=0, max_value=1800),
    st.integers(min_value=0, max_value=5),
    st.integers(min_value=0, max_value=7200),
)
def test_hold_back_follows_its_definition(entries, alert, cooldown, budget, window):
    history = mitigation_history(_annotated([_entry(a, ago) for a, ago in entries]))
    hold = hold_back(history, alert, NOW, Limits(900, cooldown, budget, window))
    own_recent = any(a == alert and ago < cooldown for a, ago in entries)
    in_window = sum(1 for _a, ago in entries if ago < window)
    over_budget = budget > 0 and window > 0 and in_window >= budget
    if own_recent:
        assert hold is not None
        assert hold["outcome"] == "cooldown"
    elif over_budget:
        assert hold is not None
        assert hold["outcome"] == "budget"
    else:
        assert hold is None
    if hold is not None:
        assert hold["remaining"] > 0


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
