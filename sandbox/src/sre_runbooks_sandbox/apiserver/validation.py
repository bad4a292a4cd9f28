"""Field validation the real server applies to the served kinds, where clients trip over it.

Only the checks that keep the simulated controllers sane and that users commonly hit are here:
required selectors, templates whose labels the selector matches, containers with a name and an
image, Service ports. Messages follow the real server's field errors.
"""

from __future__ import annotations

from .errors import field_value, invalid
from .selectors import selector_matches

Cause = tuple[str, str, str]  # (field, reason, message)

_WORKLOADS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"})


def _containers(path: str, spec: dict) -> list[Cause]:
    containers = spec.get("containers")
    if not containers:
        return [(f"{path}.containers", "FieldValueRequired", "Required value")]
    causes = []
    for index, container in enumerate(containers):
        for key in ("name", "image"):
            if not container.get(key):
                causes.append(
                    (f"{path}.containers[{index}].{key}", "FieldValueRequired", "Required value")
                )
    return causes


def _workload(spec: dict) -> list[Cause]:
    causes: list[Cause] = []
    selector = spec.get("selector")
    labels = (spec.get("template") or {}).get("metadata", {}).get("labels") or {}
    if not selector:
        causes.append(("spec.selector", "FieldValueRequired", "Required value"))
    elif not selector_matches(selector, labels):
        causes.append(
            (
                "spec.template.metadata.labels",
                "FieldValueInvalid",
                f"Invalid value: {field_value(labels)}: "
                "`selector` does not match template `labels`",
            )
        )
    replicas = spec.get("replicas")
    if isinstance(replicas, int) and replicas < 0:
        causes.append(
            (
                "spec.replicas",
                "FieldValueInvalid",
                f"Invalid value: {field_value(replicas)}: must be greater than or equal to 0",
            )
        )
    causes.extend(_containers("spec.template.spec", (spec.get("template") or {}).get("spec", {})))
    return causes


def validate(kind: str, group: str, obj: dict) -> None:
    """Raise 422 Invalid, with one cause per problem, if the object would be rejected."""
    spec = obj.get("spec") or {}
    causes: list[Cause] = []
    if kind in _WORKLOADS:
        causes = _workload(spec)
    elif kind == "Pod":
        causes = _containers("spec", spec)
    elif (
        kind == "Service"
        and spec.get("type", "ClusterIP") != "ExternalName"
        and spec.get("clusterIP") != "None"
        and not spec.get("ports")
    ):
        causes = [("spec.ports", "FieldValueRequired", "Required value")]
    if causes:
        raise invalid(kind, obj["metadata"].get("name", ""), causes, group)
