"""The engine's guardrails and decisions (plugins/plugin_utils/_decide.py), without a cluster."""

from __future__ import annotations

import pytest
from ansible_collections.sre.runbooks.plugins.plugin_utils import _decide as decide
from hypothesis import given
from hypothesis import strategies as st

TARGET = {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"}
PROTECTED = ["kube-system", "kube-public"]
EXEMPT = [{"namespace": "kube-system", "kind": "DaemonSet", "name": "nvidia-device-plugin"}]


def rule(action, risky=False, obj=None, **params):
    return {"action": action, "type": "scale", "risky": risky, "object": obj, "params": params}


def plan(rules, approve=False, cap=3):
    return decide.plan(
        rules, TARGET, protected=PROTECTED, exemptions=EXEMPT, approve=approve, max_mitigations=cap
    )


def statuses(decisions):
    return [(d["action"], d["status"]) for d in decisions]


def test_statuses_in_order_with_the_cap():
    rules = [rule("a"), rule("b", risky=True), rule("c"), rule("d"), rule("e")]
    assert statuses(plan(rules, cap=2)) == [
        ("a", "planned"),
        ("b", "awaiting_approval"),
        ("c", "planned"),
        ("d", "skipped"),
        ("e", "skipped"),
    ]
    assert statuses(plan(rules, approve=True, cap=2))[1] == ("b", "planned")


def test_protected_namespace_and_exemption():
    in_kube = {"kind": "Deployment", "namespace": "kube-system", "name": "coredns"}
    plugin = {"kind": "DaemonSet", "namespace": "kube-system", "name": "nvidia-device-plugin"}
    decisions = plan([rule("a", obj=in_kube), rule("b", obj=plugin)])
    assert statuses(decisions) == [("a", "refused"), ("b", "planned")]
    assert "kube-system" in decisions[0]["held_reason"]


def test_an_executor_acting_in_a_protected_namespace_is_refused_even_from_an_exempt_object():
    plugin = {"kind": "DaemonSet", "namespace": "kube-system", "name": "nvidia-device-plugin"}
    assert statuses(plan([rule("a", namespace="kube-system")])) == [("a", "refused")]
    exempt_elsewhere = rule("b", obj=plugin, namespace="kube-public")
    assert statuses(plan([exempt_elsewhere])) == [("b", "refused")]


names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)


@given(
    st.lists(
        st.tuples(names, st.booleans(), st.sampled_from(["nimify-system", "kube-system", "x"])),
        max_size=8,
        unique_by=lambda t: t[0],
    ),
    st.booleans(),
    st.integers(min_value=0, max_value=5),
)
def test_guardrails_hold_for_any_rules(items, approve, cap):
    rules = [
        rule(n, risky=r, obj={"kind": "Deployment", "namespace": ns, "name": n})
        for n, r, ns in items
    ]
    decisions = plan(rules, approve=approve, cap=cap)
    assert [d["action"] for d in decisions] == [n for n, _, _ in items]
    planned = [d for d in decisions if d["status"] == "planned"]
    assert len(planned) <= cap
    for decision in planned:
        assert decision["object"]["namespace"] not in PROTECTED
        assert approve or not decision["risky"]
    for decision in decisions:
        if decision["object"]["namespace"] in PROTECTED:
            assert decision["status"] == "refused"


def test_holds_turn_planned_into_held_back():
    other = {"kind": "Deployment", "namespace": "triton-system", "name": "triton-server"}
    decisions = plan([rule("a"), rule("b", obj=other)])
    assert decide.other_objects(decisions, TARGET) == [other]
    held = [{"object": other, "outcome": "cooldown", "message": "cooling down"}]
    after = decide.apply_holds(decisions, held)
    assert statuses(after) == [("a", "planned"), ("b", "held_back")]
    assert after[1]["held_reason"] == "cooling down"


@pytest.mark.parametrize(
    ("decisions", "held", "check", "outcome"),
    [
        ([], [], False, "unresolved"),
        ([], [], True, "planned"),
        ([{"action": "a", "status": "awaiting_approval"}], [], False, "approval_required"),
        ([{"action": "a", "status": "awaiting_approval"}], [], True, "planned"),
        ([], [{"outcome": "locked", "message": "m"}], True, "locked"),
        ([{"action": "a", "status": "refused", "held_reason": "r"}], [], False, "unresolved"),
    ],
)
def test_outcome_without_plan(decisions, held, check, outcome):
    assert decide.outcome_without_plan(decisions, held, check)[0] == outcome


@pytest.mark.parametrize("outcome", decide.OUTCOMES)
def test_only_a_cure_or_nothing_to_do_succeeds(outcome):
    assert decide.fails(outcome) == (
        outcome not in ("resolved", "mitigated", "not_firing", "planned")
    )


@pytest.mark.parametrize(
    ("kind", "params", "problem"),
    [
        ("scale", {}, "replicas is required"),
        ("scale", {"replicas": "five"}, "must be an integer"),
        ("scale", {"replicas": 2.5}, "must be an integer"),
        ("scale", {"replicas": True}, "must be an integer"),
        ("scale", {"replicas": -1}, "negative"),
        ("scale", {"replicas": 3, "replica": 3}, "unknown params replica"),
        ("delete_pods", {"pods": ["Bad_Name"]}, "pod names"),
        ("exec", {"pod": "p"}, "command is required"),
        (
            "pvc_expand",
            {"claim": "c", "size": "10Gi", "namespace": "NS"},
            "not a valid Kubernetes name",
        ),
    ],
)
def test_executor_params_are_refused_before_anything_runs(kind, params, problem):
    with pytest.raises(decide.RuleError, match=problem):
        decide.check_params("r", kind, params)


def test_integers_from_extra_variables_are_accepted():
    checked, kinds = decide.check_params("r", "scale", {"replicas": "7"})
    assert checked["replicas"] == 7
    assert "Deployment" in kinds


@pytest.mark.parametrize(
    ("rule_", "problem"),
    [
        ({"action": "a", "type": "scale", "when": "{{ x }}"}, "bare expression"),
        ({"action": "a", "type": "teleport", "when": "true"}, "not an executor"),
        ({"action": "a", "type": "scale", "when": "x", "wehn": "y"}, "unknown keys wehn"),
        ({"action": "a", "type": "scale", "when": "x", "reason": "not camel"}, "CamelCase"),
    ],
)
def test_rule_shapes(rule_, problem):
    with pytest.raises(decide.RuleError, match=problem):
        decide.check_rule_shape(rule_)


def test_target_refusals():
    assert decide.target_refusal(TARGET, PROTECTED, EXEMPT) == ""
    assert "protected" in decide.target_refusal(
        dict(TARGET, namespace="kube-system"), PROTECTED, []
    )
    assert "valid Kubernetes name" in decide.target_refusal(dict(TARGET, name="A_b"), PROTECTED, [])
    assert "of nimify only" in decide.target_refusal(
        TARGET, PROTECTED, [], system="nimify", label_system="bolt", role="high_error_rate"
    )


@pytest.mark.parametrize("outcome", decide.OUTCOMES)
def test_the_launcher_knows_every_outcome_and_never_exits_0_for_a_failing_one(outcome):
    from sre_runbooks.run import EXIT_OK, OUTCOME_EXIT  # noqa: PLC0415

    assert outcome in OUTCOME_EXIT
    if decide.fails(outcome):
        assert OUTCOME_EXIT[outcome] != EXIT_OK
