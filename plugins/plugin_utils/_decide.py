# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The remediation engine's decisions and guardrails, as plain functions over plain data.

Nothing here talks to a cluster or templates anything: the engine (``_engine.py``) gathers the
findings and evaluates the alert role's rules, then these functions say what may run. They are
unit-tested directly (tests/unit/plugins/test_decide.py).
"""

from __future__ import annotations

import re

# DNS-1123 names, as the API server validates namespaces and object names.
NAME_PATTERN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")

WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet")

# Outcomes of a run, and what each means for the one who ran it.
HELD_BACK = ("locked", "cooldown", "budget")
# The alert still fires and this run did not cure it: the play fails (never exit 0).
FAILING = ("failed", "refused", "unresolved", "approval_required", *HELD_BACK)
# Nothing was changed because nothing had to be (or, in check mode, could be).
QUIET = ("not_firing", "planned")
OUTCOMES = ("resolved", "mitigated", *QUIET, *FAILING)


class RuleError(ValueError):
    """A rule of the alert role is malformed: the run stops before anything changes."""


# Executor type -> (object kinds it acts on, {param: (types, required)}).
# Strings stand for integers only where an extra variable (always a string) may feed them.
_TEXT = (str,)
_INT = ("int",)
_LIST = (list,)
_DICT = (dict,)
_ANY = (str, int, float, bool, list, dict, type(None))
EXECUTORS = {
    "rollout_undo": (WORKLOADS[:2], {"to_revision": (_INT, False)}),
    "rollout_restart": (WORKLOADS, {}),
    "scale": (WORKLOADS[:2], {"replicas": (_INT, True), "replicas_before": (_INT, False)}),
    "container_patch": (
        WORKLOADS,
        {
            "container": (_TEXT, True),
            "resources": (_DICT, False),
            "env": (_LIST, False),
            "liveness_probe": (_DICT, False),
            "readiness_probe": (_DICT, False),
        },
    ),
    "configmap_patch": (("ConfigMap",), {"data": (_DICT, True), "data_before": (_ANY, False)}),
    "delete_pods": (
        (*WORKLOADS, "Pod"),
        {"pods": (_LIST, True), "namespace": (_TEXT, False)},
    ),
    "exec": (
        (*WORKLOADS, "Pod"),
        {
            "pod": (_TEXT, True),
            "command": ((list, str), True),
            "container": (_TEXT, False),
            "namespace": (_TEXT, False),
            "before": (_ANY, False),
            "after": (_ANY, False),
        },
    ),
    "http": (
        (*WORKLOADS, "Service", "Pod"),
        {
            "service": (_TEXT, True),
            "port": ((str, "int"), True),
            "path": (_TEXT, True),
            "method": (_TEXT, False),
            "body": (_ANY, False),
            "kind": (_TEXT, False),
            "namespace": (_TEXT, False),
            "status_code": (_LIST, False),
            "before": (_ANY, False),
        },
    ),
    "pvc_expand": (
        ("PersistentVolumeClaim",),
        {
            "claim": (_TEXT, True),
            "size": (_TEXT, True),
            "namespace": (_TEXT, False),
            "size_before": (_ANY, False),
        },
    ),
}
RULE_KEYS = frozenset(
    ["action", "type", "reason", "description", "when", "risky", "object", "params"]
)
REASON_PATTERN = re.compile(r"^[A-Z][A-Za-z0-9]{0,127}$")


def as_int(value):
    """An integer given as an int or a string of digits (extra variables are strings); else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^-?[0-9]+$", value.strip()):
        return int(value.strip())
    return None


def _type_ok(value, types):
    for kind in types:
        if kind == "int":
            if as_int(value) is not None:
                return True
        elif isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return True
    return False


def _type_names(types):
    return " or ".join("an integer" if t == "int" else "a " + t.__name__ for t in types)


def check_rule_shape(rule, index=0):
    """The keys and types a rule must have before it is evaluated; raises ``RuleError``."""
    where = "rule %d" % (index + 1)
    if not isinstance(rule, dict):
        raise RuleError("%s: a rule is a mapping, got %r" % (where, rule))
    action = rule.get("action")
    if not isinstance(action, str) or not action:
        raise RuleError("%s: needs an action name" % where)
    where = "rule %s" % action
    unknown = sorted(set(rule) - RULE_KEYS)
    if unknown:
        raise RuleError(
            "%s: unknown keys %s (a rule has %s)"
            % (where, ", ".join(unknown), ", ".join(sorted(RULE_KEYS)))
        )
    if rule.get("type") not in EXECUTORS:
        raise RuleError(
            "%s: type %r is not an executor (%s)"
            % (where, rule.get("type"), ", ".join(sorted(EXECUTORS)))
        )
    when = rule.get("when")
    conditions = when if isinstance(when, list) else [when]
    if not conditions or not all(isinstance(c, (str, bool)) for c in conditions):
        raise RuleError("%s: `when` is an expression or a list of expressions" % where)
    for condition in conditions:
        if isinstance(condition, str) and ("{{" in condition or "{%" in condition):
            raise RuleError(
                "%s: `when` is a bare expression, like a task's when (no {{ }}): %s"
                % (where, condition.strip())
            )
    if not isinstance(rule.get("risky", False), bool):
        raise RuleError(
            "%s: risky is true or false, got %r (write two rules for two cases)"
            % (where, rule["risky"])
        )
    if "reason" in rule and not (
        isinstance(rule["reason"], str) and REASON_PATTERN.match(rule["reason"])
    ):
        raise RuleError("%s: reason %r must be a CamelCase Event reason" % (where, rule["reason"]))
    return action


def check_params(action, kind, params):
    """Validates an executor's params once templated; returns them with integers as ints."""
    kinds, spec = EXECUTORS[kind]
    where = "rule %s (%s)" % (action, kind)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise RuleError("%s: params must be a mapping, got %r" % (where, params))
    unknown = sorted(set(params) - set(spec))
    if unknown:
        raise RuleError(
            "%s: unknown params %s (it takes %s)"
            % (where, ", ".join(unknown), ", ".join(sorted(spec)) or "none")
        )
    checked = dict(params)
    for name, (types, required) in spec.items():
        if name not in params or params[name] is None:
            if required:
                raise RuleError("%s: params.%s is required" % (where, name))
            checked.pop(name, None)
            continue
        if not _type_ok(params[name], types):
            raise RuleError(
                "%s: params.%s must be %s, got %r" % (where, name, _type_names(types), params[name])
            )
        if "int" in types and as_int(params[name]) is not None:
            checked[name] = as_int(params[name])
    if kind == "scale" and checked["replicas"] < 0:
        raise RuleError("%s: params.replicas must not be negative" % where)
    if kind == "delete_pods" and not all(
        isinstance(p, str) and NAME_PATTERN.match(p) for p in checked["pods"]
    ):
        raise RuleError("%s: params.pods must be pod names, got %r" % (where, checked["pods"]))
    for name in ("namespace", "pod", "claim", "service", "container"):
        value = checked.get(name)
        if value is not None and not NAME_PATTERN.match(value):
            raise RuleError(
                "%s: params.%s %r is not a valid Kubernetes name" % (where, name, value)
            )
    return checked, kinds


def object_of(rule_object, target):
    """The object a mitigation changes: the rule's own, else the run's target."""
    given = rule_object or target
    return {
        "kind": given.get("kind") or target["kind"],
        "namespace": given.get("namespace") or target["namespace"],
        "name": given.get("name"),
    }


def is_protected(obj, acts_in, protected, exemptions):
    """A change in a protected namespace, unless the object itself is exempt.

    ``acts_in`` is the namespace the executor acts in (its params.namespace): an exemption covers
    the object, never another namespace an executor reaches from it.
    """
    exempt = any(
        obj["namespace"] == e.get("namespace")
        and obj["kind"] == e.get("kind")
        and obj["name"] == e.get("name")
        for e in exemptions or []
    )
    if obj["namespace"] in protected and not exempt:
        return True
    return acts_in != obj["namespace"] and acts_in in protected


def target_refusal(target, protected, exemptions, *, system=None, label_system=None, role=""):
    """Why a run must not touch its target at all (empty: it may)."""
    if label_system and system and label_system != system:
        return "sre.runbooks.%s remediates this alert of %s only, not of %s" % (
            role,
            system,
            label_system,
        )
    namespace, name = target.get("namespace") or "", target.get("name") or ""
    if not (NAME_PATTERN.match(namespace) and NAME_PATTERN.match(name)):
        return "the target %s %s/%s is not a valid Kubernetes name" % (
            target.get("kind"),
            namespace,
            name,
        )
    if is_protected(target, namespace, protected, exemptions):
        return "the target namespace %s is protected" % namespace
    return ""


def plan(matched, target, *, protected, exemptions, approve, max_mitigations):
    """Each matched rule becomes a decision with its status, in the rules' order.

    ``refused`` in a protected namespace (also where the executor acts outside its object),
    ``awaiting_approval`` when risky and not approved, ``skipped`` beyond the cap, else
    ``planned``. ``matched`` holds rules whose ``when`` held, params and object templated.
    """
    decisions = []
    planned = 0
    for rule in matched:
        obj = object_of(rule.get("object"), target)
        params = rule.get("params") or {}
        acts_in = params.get("namespace") or obj["namespace"]
        risky = bool(rule.get("risky", False))
        if is_protected(obj, acts_in, protected, exemptions):
            status = "refused"
        elif risky and not approve:
            status = "awaiting_approval"
        elif planned >= max_mitigations:
            status = "skipped"
        else:
            status = "planned"
            planned += 1
        decision = {
            "action": rule["action"],
            "type": rule["type"],
            "reason": rule.get("reason") or "Remediated",
            "description": (rule.get("description") or "").strip(),
            "risky": risky,
            "object": obj,
            "params": params,
            "status": status,
        }
        if status == "refused":
            decision["held_reason"] = "namespace %s is protected" % acts_in
        decisions.append(decision)
    return decisions


def other_objects(decisions, target):
    """The objects planned mitigations change besides the target, each once, in order."""
    seen, out = [], []
    for decision in decisions:
        obj = decision["object"]
        if decision["status"] != "planned" or _same(obj, target) or obj in seen:
            continue
        seen.append(obj)
        out.append(obj)
    return out


def _same(one, other):
    return all(one.get(k) == other.get(k) for k in ("kind", "namespace", "name"))


def apply_holds(decisions, held):
    """Planned mitigations of objects another run holds or recently mitigated are held back."""
    out = []
    for decision in decisions:
        hold = next((h for h in held if _same(h["object"], decision["object"])), None)
        if hold and decision["status"] == "planned":
            out.append(
                dict(
                    decision, status="held_back", held=hold["outcome"], held_reason=hold["message"]
                )
            )
        else:
            out.append(decision)
    return out


def outcome_without_plan(decisions, held, check_mode):
    """When no mitigation may run: the run's outcome and message."""
    waiting = [d["action"] for d in decisions if d["status"] == "awaiting_approval"]
    refused = [d for d in decisions if d["status"] == "refused"]
    if held:
        return held[0]["outcome"], "; ".join(h["message"] for h in held)
    if check_mode:
        return "planned", "check mode: would apply nothing%s" % (
            " (awaiting approval: %s)" % ", ".join(waiting) if waiting else ""
        )
    if waiting:
        return (
            "approval_required",
            "risky mitigations need approval (runbook run --yes or remediation_approve): %s"
            % ", ".join(waiting),
        )
    if refused:
        return "unresolved", "%s; escalate" % "; ".join(
            "%s refused: %s" % (d["action"], d["held_reason"]) for d in refused
        )
    return "unresolved", "no mitigation applies to the findings; escalate"


def decision_report(decisions, actions, check_mode):
    """Each decision's final status: what its mitigation did, when it ran."""
    out = []
    for decision in decisions:
        done = [a for a in actions if a["action"] == decision["action"]]
        status = decision["status"]
        if done:
            status = "planned" if check_mode else ("applied" if done[0]["changed"] else "unchanged")
        out.append(
            {
                "action": decision["action"],
                "type": decision["type"],
                "description": decision.get("description", ""),
                "risky": decision["risky"],
                "object": decision["object"],
                "params": decision.get("params") or {},
                "status": status,
                "held_reason": decision.get("held_reason"),
            }
        )
    return out


def verified_outcome(alert, recovered, actions, timeout):
    """The outcome once verification ended."""
    names = ", ".join(a["action"] for a in actions) or "nothing"
    if recovered:
        return "resolved", "%s cleared after %s" % (alert, names)
    return "unresolved", "%s still fires %s s after %s" % (alert, timeout, names)


def fails(outcome):
    """Whether the play must fail: the alert fires and this run did not cure it."""
    return outcome not in ("resolved", "mitigated", *QUIET)
