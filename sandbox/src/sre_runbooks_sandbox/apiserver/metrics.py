"""metrics.k8s.io/v1beta1, as metrics-server serves it: PodMetrics and NodeMetrics.

Usage comes from the cluster's `Workloads` (``usage(pod)``, per container, cores and bytes).
Quantities are written the way metrics-server writes them (CPU in nanocores, ``1234567n``; memory
in kibibytes, ``65536Ki``), which is what `kubectl top` parses. A node's usage is the sum of its
running pods plus a constant for the system daemons a real node also runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import errors
from .objects import now
from .selectors import label_matcher

if TYPE_CHECKING:
    from .api import Cluster

GROUP, VERSION = "metrics.k8s.io", "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
WINDOW = "15s"
# What the kubelet, container runtime and system services of an idle node use.
NODE_BASE_CPU, NODE_BASE_MEMORY = 0.1, 768 * 1024 * 1024


def cpu_quantity(cores: float) -> str:
    """CPU as metrics-server reports it, in nanocores."""
    return f"{max(round(cores * 1e9), 0)}n"


def memory_quantity(size: int) -> str:
    """Memory as metrics-server reports it, in kibibytes."""
    return f"{max(size, 0) // 1024}Ki"


def _not_found(kind: str, name: str) -> errors.ApiError:
    return errors.ApiError(
        404,
        "NotFound",
        f'{kind}.{GROUP} "{name}" not found',
        {"group": GROUP, "kind": kind, "name": name},
    )


def _running(cluster: Cluster) -> list[dict]:
    pods, _ = cluster.store.list(("", "pods"), None)
    return [
        p
        for p in pods
        if p["spec"].get("nodeName")
        and p["status"].get("phase") == "Running"
        and not p["metadata"].get("deletionTimestamp")
    ]


def _pod_metrics(cluster: Cluster, pod: dict, stamp: str) -> dict | None:
    usage = cluster.workloads.usage(pod)
    if not usage:
        return None
    meta = pod["metadata"]
    return {
        "containers": [
            {
                "name": name,
                "usage": {"cpu": cpu_quantity(u.cpu), "memory": memory_quantity(u.memory)},
            }
            for name, u in usage.items()
        ],
        "metadata": {
            "creationTimestamp": stamp,
            "labels": meta.get("labels") or {},
            "name": meta["name"],
            "namespace": meta["namespace"],
        },
        "timestamp": stamp,
        "window": WINDOW,
    }


def _node_metrics(cluster: Cluster, node: dict, pods: list[dict], stamp: str) -> dict:
    cpu, memory = NODE_BASE_CPU, NODE_BASE_MEMORY
    name = node["metadata"]["name"]
    for pod in pods:
        if pod["spec"].get("nodeName") == name:
            for usage in cluster.workloads.usage(pod).values():
                cpu += usage.cpu
                memory += usage.memory
    return {
        "metadata": {
            "creationTimestamp": stamp,
            "labels": node["metadata"].get("labels") or {},
            "name": name,
        },
        "timestamp": stamp,
        "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
        "window": WINDOW,
    }


def answer(cluster: Cluster, method: str, rest: list[str], query: dict[str, str]) -> dict:
    """The answer to GET /apis/metrics.k8s.io/v1beta1/<rest>; ApiError for anything else."""
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
    if not rest or len(rest) > 2 or rest[0] not in {"pods", "nodes"}:
        raise errors.not_found_path()
    if rest[0] == "nodes" and namespace is not None:
        raise errors.not_found_path()
    if method not in {"GET", "HEAD"}:
        raise errors.method_not_allowed()
    stamp = now()
    selected = label_matcher(query.get("labelSelector"))
    pods = _running(cluster)
    if rest[0] == "pods":
        if namespace is not None:
            pods = [p for p in pods if p["metadata"]["namespace"] == namespace]
        if len(rest) == 2:
            pods = [p for p in pods if p["metadata"]["name"] == rest[1]]
            found = _pod_metrics(cluster, pods[0], stamp) if pods else None
            if found is None:
                raise _not_found("podmetrics", f"{namespace}/{rest[1]}")
            return {"apiVersion": API_VERSION, "kind": "PodMetrics", **found}
        items = [_pod_metrics(cluster, p, stamp) for p in pods if selected(p)]
        return {
            "apiVersion": API_VERSION,
            "items": [i for i in items if i is not None],
            "kind": "PodMetricsList",
            "metadata": {},
        }
    nodes, _ = cluster.store.list(("", "nodes"), None)
    if len(rest) == 2:
        node = next((n for n in nodes if n["metadata"]["name"] == rest[1]), None)
        if node is None:
            raise _not_found("nodemetrics", rest[1])
        return {
            "apiVersion": API_VERSION,
            "kind": "NodeMetrics",
            **_node_metrics(cluster, node, pods, stamp),
        }
    return {
        "apiVersion": API_VERSION,
        "items": [_node_metrics(cluster, n, pods, stamp) for n in nodes if selected(n)],
        "kind": "NodeMetricsList",
        "metadata": {},
    }
