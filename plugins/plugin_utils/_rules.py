# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""An alert role's rules and investigation, evaluated over the findings (docs/findings.md).

A rule's ``when`` is a bare expression, like a task's ``when``, evaluated by Ansible's templar
with ``findings`` among the variables and undefined names failing. Before that, every
``findings.<path>`` the rule names is checked against the findings schema, so a misspelt finding
fails even where the expression would short-circuit past it. Only the rules whose ``when`` holds
get their ``params`` and ``object`` templated.
"""

from __future__ import annotations

from ansible_collections.sre.runbooks.plugins.plugin_utils._decide import (
    RuleError,
    check_params,
    check_rule_shape,
)
from jinja2 import Environment, nodes

# The findings schema: a mapping names the keys that exist at that level (None below it: not
# checked further); "queries" and "probes" stand for the role's declared query and probe names.
_HISTORY = dict.fromkeys(
    [
        "current_revision",
        "revisions",
        "newest_revision",
        "newest_created",
        "newest_age_seconds",
        "newest_images",
        "previous_images",
        "progressed_age_seconds",
    ]
)
_SUMMARY = dict.fromkeys(
    ["pods", "ready", "restarts", "waiting_reasons", "oom_killed", "crash_looping", "phases"]
)
_WORKLOAD_OBJECT = dict.fromkeys(
    [
        "kind",
        "name",
        "selector",
        "rollout_done",
        "rollout_message",
        "generation",
        "observed_generation",
        "paused",
        "replicas",
        "annotations",
    ]
)
SCHEMA = {
    "firing": None,
    "alerts": None,
    "alert": None,
    "metrics": "queries",
    "series": "queries",
    "target": dict.fromkeys(["kind", "namespace", "name", "pod"]),
    "workload": {
        "namespace": None,
        "workload": _WORKLOAD_OBJECT,
        "pods": None,
        "containers": None,
        "summary": _SUMMARY,
        "history": _HISTORY,
        "events": None,
        "metrics": None,
        "logs": dict.fromkeys(["containers", "counts"]),
        "missing": None,
    },
    "probes": "probes",
}

# Only parsed, never rendered: nothing to escape.
_JINJA = Environment()  # noqa: S701


def _is_template(text):
    return "{{" in text or "{%" in text


def _paths(expression):
    """Every ``findings.a.b`` / ``findings['a']`` path an expression or template names."""
    source = expression if _is_template(expression) else "{{ %s }}" % expression
    tree = _JINJA.parse(source)
    found = []
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        path = []
        current = node
        while isinstance(current, (nodes.Getattr, nodes.Getitem)):
            if isinstance(current, nodes.Getattr):
                path.append(current.attr)
            elif isinstance(current.arg, nodes.Const) and isinstance(current.arg.value, str):
                path.append(current.arg.value)
            else:
                path = []  # a computed key: check up to here only
            current = current.node
        if isinstance(current, nodes.Name) and current.name == "findings" and path:
            found.append(list(reversed(path)))
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def check_references(where, value, queries, probes, *, bare=False):
    """Raises ``RuleError`` for a ``findings`` path that the schema does not have.

    ``bare``: strings are expressions (``when``); else only templates are looked into (params
    and object hold plain text too).
    """
    names = {"queries": set(queries), "probes": set(probes)}
    for text in _strings(value):
        if not bare and not _is_template(text):
            continue
        try:
            paths = _paths(text)
        except Exception as error:  # jinja2's TemplateSyntaxError and friends
            raise RuleError("%s: cannot parse %r: %s" % (where, text.strip(), error)) from None
        for path in paths:
            level, seen = SCHEMA, ["findings"]
            for key in path:
                if level is None:
                    break
                allowed = names[level] if isinstance(level, str) else set(level)
                if key not in allowed:
                    raise RuleError(
                        "%s: %s has no %r (it has: %s; see docs/findings.md)"
                        % (where, ".".join(seen), key, ", ".join(sorted(allowed)) or "nothing")
                    )
                seen.append(key)
                level = None if isinstance(level, str) else level[key]


def check_rules(rules, queries, probes):
    """The rules' shapes and findings references; returns nothing, raises ``RuleError``."""
    if not isinstance(rules, list):
        raise RuleError("the rules are a list, got %r" % (rules,))
    seen = set()
    for index, rule in enumerate(rules):
        action = check_rule_shape(rule, index)
        if action in seen:
            raise RuleError("rule %s: two rules have this action name" % action)
        seen.add(action)
        for key in ("when", "params", "object"):
            check_references(
                "rule %s: %s" % (action, key), rule.get(key), queries, probes, bare=key == "when"
            )


def _conditions(rule):
    when = rule.get("when", True)
    return when if isinstance(when, list) else [when]


def evaluate(templar, rules, queries, probes, target_kind):
    """The rules whose ``when`` holds, with params checked and object templated.

    ``templar`` must already have ``findings`` among its variables. Raises ``RuleError`` for a
    malformed rule, naming it; the templar's own error for an undefined name.
    """
    check_rules(rules, queries, probes)
    matched = []
    for rule in rules:
        action = rule["action"]
        try:
            holds = all(
                c if isinstance(c, bool) else templar.evaluate_conditional(c)
                for c in _conditions(rule)
            )
        except Exception as error:
            raise RuleError("rule %s: when: %s" % (action, error)) from None
        if not holds:
            continue
        try:
            params = templar.template(rule.get("params") or {})
            obj = templar.template(rule["object"]) if rule.get("object") else None
        except Exception as error:
            raise RuleError("rule %s: params: %s" % (action, error)) from None
        params, kinds = check_params(action, rule["type"], _plain(params))
        obj = _plain(obj) if obj is not None else None
        kind = (obj or {}).get("kind") or target_kind
        if kind not in kinds:
            raise RuleError(
                "rule %s: %s acts on %s, not on a %s"
                % (action, rule["type"], ", ".join(kinds), kind)
            )
        if obj is not None and (not isinstance(obj, dict) or not obj.get("name")):
            raise RuleError("rule %s: object needs kind, namespace and name" % action)
        matched.append(dict(_plain(dict(rule)), params=params, object=obj))
    return matched


def investigate(templar, steps, strict=False):
    """Each investigation step with its answer templated over the findings.

    A step that cannot be answered says why instead of failing the run; the role's table test
    renders every step strictly (``strict=True`` there).
    """
    out = []
    for step in steps or []:
        try:
            answer = templar.template(step.get("result"))
        except Exception as error:
            if strict:
                raise
            answer = "(not answered: %s)" % error
        out.append({"step": str(templar.template(step.get("step", ""))).strip(), "result": answer})
    return out


def _plain(value):
    """Templated data as plain Python types (Ansible's tagged str/dict/list subclasses)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return value
