"""Server-side printing: the `Table` answers kubectl asks for in `kubectl get`.

kubectl sends `Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...` and prints the columns
and cells it gets back, so these mirror the real server's printers (pkg/printers/internalversion)
for the served kinds: the same column names and cell texts. Kinds without a printer get the
default NAME and AGE columns, as on a real server.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .selectors import selector_string

Column = tuple[str, str, int]  # (name, type, priority: 0 always shown, 1 only with -o wide)


def wants_table(accept: str) -> bool:
    """Whether the Accept header asks for a meta.k8s.io Table first."""
    first = accept.split(",", maxsplit=1)[0]
    return "as=Table" in first and "g=meta.k8s.io" in first


_UNITS = {1: "s", 60: "m", 3600: "h", 86400: "d", 31536000: "y"}
# (below this many seconds, show whole units of, then the remainder in) - k8s HumanDuration.
_DURATION_STEPS = (
    (120, 1, None),
    (600, 60, 1),
    (3 * 3600, 60, None),
    (8 * 3600, 3600, 60),
    (48 * 3600, 3600, None),
    (8 * 86400, 86400, 3600),
    (2 * 31536000, 86400, None),
    (8 * 31536000, 31536000, 86400),
)


def human_duration(seconds: float) -> str:
    """kubectl's short ages: 5s, 3m2s, 4h, 2d3h, 400d, 2y10d."""
    value = int(max(seconds, 0))
    for limit, unit, rest_unit in _DURATION_STEPS:
        if value < limit:
            text = f"{value // unit}{_UNITS[unit]}"
            rest = (value % unit) // rest_unit if rest_unit else 0
            return f"{text}{rest}{_UNITS[rest_unit]}" if rest_unit and rest else text
    return f"{value // 31536000}y"


def age(stamp: str | None) -> str:
    """The AGE cell for a timestamp."""
    if not stamp:
        return "<unknown>"
    then = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return human_duration((datetime.now(UTC) - then).total_seconds())


def _pod(pod: dict) -> list:
    status, spec = pod.get("status", {}), pod.get("spec", {})
    statuses = status.get("containerStatuses") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    restarts = sum(s.get("restartCount", 0) for s in statuses)
    reason = status.get("reason") or status.get("phase", "Pending")
    for cs in statuses:
        waiting = cs.get("state", {}).get("waiting")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
    if pod["metadata"].get("deletionTimestamp"):
        reason = "Terminating"
    nominated = status.get("nominatedNodeName") or "<none>"
    # Like kubectl's printer: "3 (12s ago)", dated by the latest termination.
    finished = [
        s["lastState"]["terminated"]["finishedAt"]
        for s in statuses
        if (s.get("lastState") or {}).get("terminated", {}).get("finishedAt")
    ]
    restarts_cell = f"{restarts} ({age(max(finished))} ago)" if restarts and finished else restarts
    return [
        f"{ready}/{len(spec.get('containers') or [])}",
        reason,
        restarts_cell,
        status.get("podIP") or "<none>",
        spec.get("nodeName") or "<none>",
        nominated,
        "<none>",
    ]


def _containers(template: dict) -> list[str]:
    containers = template.get("spec", {}).get("containers") or []
    return [
        ",".join(c["name"] for c in containers),
        ",".join(c.get("image", "") for c in containers),
    ]


def _deployment(obj: dict) -> list:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        *_containers(spec.get("template", {})),
        selector_string(spec.get("selector")),
    ]


def _replicaset(obj: dict) -> list:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return [
        spec.get("replicas", 0),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        *_containers(spec.get("template", {})),
        selector_string(spec.get("selector")),
    ]


def _statefulset(obj: dict) -> list:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    return [
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
        *_containers(spec.get("template", {})),
    ]


def _daemonset(obj: dict) -> list:
    spec, status = obj.get("spec", {}), obj.get("status", {})
    selector = spec.get("template", {}).get("spec", {}).get("nodeSelector") or {}
    return [
        status.get("desiredNumberScheduled", 0),
        status.get("currentNumberScheduled", 0),
        status.get("numberReady", 0),
        status.get("updatedNumberScheduled", 0),
        status.get("numberAvailable", 0),
        ",".join(f"{k}={v}" for k, v in sorted(selector.items())) or "<none>",
        *_containers(spec.get("template", {})),
        selector_string(spec.get("selector")),
    ]


def _service(obj: dict) -> list:
    spec = obj.get("spec", {})
    ingress = obj.get("status", {}).get("loadBalancer", {}).get("ingress") or []
    external = ",".join(i.get("ip") or i.get("hostname", "") for i in ingress)
    if not external:
        external = {"LoadBalancer": "<pending>", "ExternalName": spec.get("externalName", "")}.get(
            spec.get("type", "ClusterIP"), "<none>"
        )
    ports = (
        ",".join(
            f"{p['port']}:{p['nodePort']}/{p.get('protocol', 'TCP')}"
            if p.get("nodePort")
            else f"{p['port']}/{p.get('protocol', 'TCP')}"
            for p in spec.get("ports") or []
        )
        or "<none>"
    )
    selector = ",".join(f"{k}={v}" for k, v in sorted((spec.get("selector") or {}).items()))
    return [
        spec.get("type", "ClusterIP"),
        spec.get("clusterIP") or "<none>",
        external,
        ports,
        selector or "<none>",
    ]


def _node(obj: dict) -> list:
    conditions = obj.get("status", {}).get("conditions") or []
    ready = next((c for c in conditions if c["type"] == "Ready"), {})
    status = "Ready" if ready.get("status") == "True" else "NotReady"
    if obj.get("spec", {}).get("unschedulable"):
        status += ",SchedulingDisabled"
    roles = sorted(
        k.split("/", 1)[1]
        for k in obj["metadata"].get("labels") or {}
        if k.startswith("node-role.kubernetes.io/")
    )
    info = obj.get("status", {}).get("nodeInfo", {})
    addresses = {a["type"]: a["address"] for a in obj.get("status", {}).get("addresses") or []}
    return [
        status,
        ",".join(roles) or "<none>",
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP", "<none>"),
        addresses.get("ExternalIP", "<none>"),
        info.get("osImage", ""),
        info.get("kernelVersion", ""),
        info.get("containerRuntimeVersion", ""),
    ]


def _event(obj: dict) -> list:
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = (
        obj.get("lastTimestamp") or obj.get("eventTime") or obj["metadata"].get("creationTimestamp")
    )
    return [
        age(last),
        obj.get("type", ""),
        obj.get("reason", ""),
        f"{involved.get('kind', '').lower()}/{involved.get('name', '')}",
        obj.get("message") or obj.get("note", ""),
    ]


def _endpoints(obj: dict) -> list:
    pairs = [
        f"{a['ip']}:{p['port']}"
        for s in obj.get("subsets") or []
        for a in s.get("addresses") or []
        for p in s.get("ports") or [{"port": ""}]
    ]
    text = ",".join(pairs[:3]) + (f" + {len(pairs) - 3} more..." if len(pairs) > 3 else "")
    return [text or "<none>"]


_PRINTERS: dict[str, tuple[list[Column], Callable[[dict], list]]] = {
    "Pod": (
        [
            ("Ready", "string", 0),
            ("Status", "string", 0),
            ("Restarts", "string", 0),
            ("IP", "string", 1),
            ("Node", "string", 1),
            ("Nominated Node", "string", 1),
            ("Readiness Gates", "string", 1),
        ],
        _pod,
    ),
    "Deployment": (
        [
            ("Ready", "string", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _deployment,
    ),
    "ReplicaSet": (
        [
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _replicaset,
    ),
    "StatefulSet": (
        [("Ready", "string", 0), ("Containers", "string", 1), ("Images", "string", 1)],
        _statefulset,
    ),
    "DaemonSet": (
        [
            ("Desired", "integer", 0),
            ("Current", "integer", 0),
            ("Ready", "integer", 0),
            ("Up-to-date", "integer", 0),
            ("Available", "integer", 0),
            ("Node Selector", "string", 0),
            ("Containers", "string", 1),
            ("Images", "string", 1),
            ("Selector", "string", 1),
        ],
        _daemonset,
    ),
    "Service": (
        [
            ("Type", "string", 0),
            ("Cluster-IP", "string", 0),
            ("External-IP", "string", 0),
            ("Port(s)", "string", 0),
            ("Selector", "string", 1),
        ],
        _service,
    ),
    "ConfigMap": (
        [("Data", "integer", 0)],
        lambda o: [len(o.get("data") or {}) + len(o.get("binaryData") or {})],
    ),
    "Secret": (
        [("Type", "string", 0), ("Data", "integer", 0)],
        lambda o: [o.get("type", ""), len(o.get("data") or {})],
    ),
    "Namespace": ([("Status", "string", 0)], lambda o: [o.get("status", {}).get("phase", "")]),
    "Node": (
        [
            ("Status", "string", 0),
            ("Roles", "string", 0),
            ("Version", "string", 0),
            ("Internal-IP", "string", 1),
            ("External-IP", "string", 1),
            ("OS-Image", "string", 1),
            ("Kernel-Version", "string", 1),
            ("Container-Runtime", "string", 1),
        ],
        _node,
    ),
    "Endpoints": ([("Endpoints", "string", 0)], _endpoints),
    "PersistentVolumeClaim": (
        [
            ("Status", "string", 0),
            ("Volume", "string", 0),
            ("Capacity", "string", 0),
            ("Access Modes", "string", 0),
            ("StorageClass", "string", 0),
        ],
        lambda o: [
            o.get("status", {}).get("phase", ""),
            o.get("spec", {}).get("volumeName", ""),
            o.get("status", {}).get("capacity", {}).get("storage", ""),
            ",".join(o.get("spec", {}).get("accessModes") or []),
            o.get("spec", {}).get("storageClassName") or "<unset>",
        ],
    ),
    "ControllerRevision": (
        [("Controller", "string", 0), ("Revision", "integer", 0)],
        lambda o: [
            next(
                (
                    f"{r['kind'].lower()}.{r['apiVersion'].split('/')[0]}/{r['name']}"
                    for r in o["metadata"].get("ownerReferences") or []
                    if r.get("controller")
                ),
                "<none>",
            ),
            o.get("revision", 0),
        ],
    ),
    "Lease": ([("Holder", "string", 0)], lambda o: [o.get("spec", {}).get("holderIdentity", "")]),
    "NetworkPolicy": (
        [("Pod-Selector", "string", 0)],
        lambda o: [selector_string(o.get("spec", {}).get("podSelector")) or "<none>"],
    ),
    "StorageClass": (
        [
            ("Provisioner", "string", 0),
            ("ReclaimPolicy", "string", 0),
            ("VolumeBindingMode", "string", 0),
            ("AllowVolumeExpansion", "string", 0),
        ],
        lambda o: [
            o.get("provisioner", ""),
            o.get("reclaimPolicy", ""),
            o.get("volumeBindingMode", ""),
            str(o.get("allowVolumeExpansion", False)).lower(),
        ],
    ),
}
# Age comes after these kinds' main columns and before their wide ones, as on a real server.
_AGE_AT = {
    "Pod": 3,
    "Deployment": 3,
    "ReplicaSet": 3,
    "StatefulSet": 1,
    "DaemonSet": 6,
    "Service": 4,
    "Node": 2,
    "PersistentVolumeClaim": 5,
}


def columns(kind: str) -> list[dict]:
    """The columnDefinitions for a kind."""
    extra, _ = _PRINTERS.get(kind, ([], None))
    names: list[Column] = [("Name", "string", 0), *extra]
    where = _AGE_AT.get(kind, len(extra)) + 1
    if kind == "Event":
        names = [
            ("Last Seen", "string", 0),
            ("Type", "string", 0),
            ("Reason", "string", 0),
            ("Object", "string", 0),
            ("Message", "string", 0),
        ]
    else:
        names.insert(where, ("Age", "string", 0))
    return [
        {
            "description": "",
            "format": "name" if name == "Name" else "",
            "name": name,
            "priority": priority,
            "type": kind_,
        }
        for name, kind_, priority in names
    ]


def row(kind: str, obj: dict, include: str) -> dict:
    """One row: cells in column order, and the object as `includeObject` asks."""
    if kind == "Event":
        cells = _event(obj)
    else:
        _, printer = _PRINTERS.get(kind, ([], None))
        cells = [obj["metadata"]["name"], *(printer(obj) if printer else [])]
        cells.insert(
            _AGE_AT.get(kind, len(cells) - 1) + 1, age(obj["metadata"].get("creationTimestamp"))
        )
    result: dict = {"cells": cells}
    if include == "Object":
        result["object"] = obj
    elif include != "None":
        result["object"] = {
            "apiVersion": "meta.k8s.io/v1",
            "kind": "PartialObjectMetadata",
            "metadata": obj["metadata"],
        }
    return result


def table(
    kind: str, items: list[dict], resource_version: str, include: str, metadata: dict | None = None
) -> dict:
    """A meta.k8s.io/v1 Table of objects."""
    return {
        "apiVersion": "meta.k8s.io/v1",
        "columnDefinitions": columns(kind),
        "kind": "Table",
        "metadata": metadata or {"resourceVersion": resource_version},
        "rows": [row(kind, item, include) for item in items],
    }
