"""Label and field selectors as list and watch requests send them in the query string."""

from __future__ import annotations

import re
from collections.abc import Callable

from .errors import bad_request

Matcher = Callable[[dict], bool]

_SET_TERM = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(in|notin)\s*\((.*)\))?\s*$")
_EQ_TERM = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|!=|=)\s*([A-Za-z0-9._-]*)\s*$")


def _split_terms(text: str) -> list[str]:
    """Split on commas that are not inside the parentheses of `in (a,b)`."""
    terms, depth, current = [], 0, []
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            terms.append("".join(current))
            current = []
        else:
            current.append(char)
    if current or terms:
        terms.append("".join(current))
    return [t for t in terms if t.strip()]


def _label_term(term: str) -> Callable[[dict[str, str]], bool]:
    if match := _EQ_TERM.match(term):
        key, op, value = match.groups()
        if op == "!=":
            return lambda labels: labels.get(key) != value
        return lambda labels: labels.get(key) == value
    if match := _SET_TERM.match(term):
        negate, key, op, values = match.groups()
        if op:
            members = {v.strip() for v in values.split(",")}
            if op == "in":
                return lambda labels: labels.get(key) in members
            return lambda labels: labels.get(key) not in members
        if negate:
            return lambda labels: key not in labels
        return lambda labels: key in labels
    raise bad_request(f"unable to parse requirement: invalid label selector: {term!r}")


def label_matcher(selector: str | None) -> Matcher:
    """A predicate on objects for a `labelSelector` query parameter."""
    if not selector:
        return lambda _obj: True
    terms = [_label_term(t) for t in _split_terms(selector)]
    return lambda obj: all(term(obj.get("metadata", {}).get("labels") or {}) for term in terms)


def selector_matches(selector: dict | None, labels: dict[str, str]) -> bool:
    """Whether a structured LabelSelector (matchLabels/matchExpressions) matches labels."""
    if not selector:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": lambda k=key, v=values: labels.get(k) in v,
            "NotIn": lambda k=key, v=values: labels.get(k) not in v,
            "Exists": lambda k=key: k in labels,
            "DoesNotExist": lambda k=key: k not in labels,
        }[op]()
        if not ok:
            return False
    return True


def selector_string(selector: dict | None) -> str:
    """Render a structured selector the way Scale.status.selector and kubectl show it."""
    parts = [f"{k}={v}" for k, v in sorted((selector or {}).get("matchLabels", {}).items())]
    for expr in (selector or {}).get("matchExpressions") or []:
        op, key, values = expr["operator"], expr["key"], ",".join(expr.get("values") or [])
        parts.append(
            {
                "In": f"{key} in ({values})",
                "NotIn": f"{key} notin ({values})",
                "Exists": key,
                "DoesNotExist": f"!{key}",
            }[op]
        )
    return ",".join(parts)


# Fields each kind can be selected on, beyond metadata.name and metadata.namespace.
FIELD_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec.nodeName", "status.phase", "spec.restartPolicy", "spec.schedulerName"),
    "Event": (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
    "Secret": ("type",),
    "Namespace": ("status.phase",),
    "Node": ("spec.unschedulable",),
    "ReplicaSet": ("status.replicas",),
}


def _field_value(obj: dict, path: str) -> str:
    if path == "source":
        return (obj.get("source") or {}).get("component", "")
    node: object = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    if node is None:
        return ""
    if isinstance(node, bool):
        return "true" if node else "false"
    return str(node)


def field_matcher(selector: str | None, kind: str) -> Matcher:
    """A predicate on objects for a `fieldSelector`; unknown fields fail like a real server."""
    if not selector:
        return lambda _obj: True
    allowed = ("metadata.name", "metadata.namespace", *FIELD_PATHS.get(kind, ()))
    terms = []
    for term in _split_terms(selector):
        match = re.match(r"^\s*([A-Za-z.]+)\s*(==|!=|=)\s*(.*?)\s*$", term)
        if not match:
            raise bad_request(f"invalid selector: '{selector}'; can't understand '{term}'")
        path, op, value = match.groups()
        if path not in allowed:
            raise bad_request(f"field label not supported: {path}")
        terms.append((path, op != "!=", value))
    return lambda obj: all((_field_value(obj, p) == v) == eq for p, eq, v in terms)
