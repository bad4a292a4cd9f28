"""In-process access to the simulated cluster, without the ``kubernetes`` client.

The serve process runs the API server and the workloads together, so the workloads read and
write the cluster through ``Cluster`` directly; changes go through the same code paths as API
requests (validation, defaults, controllers waking up).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

KINDS = {
    "Namespace": ("", "v1", "namespaces"),
    "Node": ("", "v1", "nodes"),
    "Pod": ("", "v1", "pods"),
    "Service": ("", "v1", "services"),
    "ConfigMap": ("", "v1", "configmaps"),
    "PersistentVolumeClaim": ("", "v1", "persistentvolumeclaims"),
    "Deployment": ("apps", "v1", "deployments"),
    "StatefulSet": ("apps", "v1", "statefulsets"),
    "DaemonSet": ("apps", "v1", "daemonsets"),
    "StorageClass": ("storage.k8s.io", "v1", "storageclasses"),
}


class Kube:
    """Thin helpers over ``sre_runbooks_sandbox.apiserver.api.Cluster``."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster

    def _res(self, kind: str) -> Any:
        return self.cluster.resource(*KINDS[kind])

    def list(self, kind: str, namespace: str | None = None) -> list[dict]:
        items, _ = self.cluster.list(self._res(kind), namespace, lambda _obj: True)
        return list(items)

    def get(self, kind: str, namespace: str, name: str) -> dict | None:
        try:
            return dict(self.cluster.get(self._res(kind), namespace, name))
        except Exception:
            return None

    def create(self, obj: dict) -> None:
        """Create ``obj`` unless it exists (``up`` is idempotent within one process)."""
        meta = obj["metadata"]
        if self.get(obj["kind"], meta.get("namespace", ""), meta["name"]) is None:
            self.cluster.create(
                self._res(obj["kind"]), meta.get("namespace", ""), copy.deepcopy(obj)
            )

    def patch(
        self, kind: str, namespace: str, name: str, change: Callable[[dict], None], sub: str = ""
    ) -> dict:
        """Apply ``change`` to a copy of the current object and write it (``sub``: status)."""

        def apply(_kind: str, current: dict) -> dict:
            new = copy.deepcopy(current)
            change(new)
            return new

        return dict(self.cluster.patch(self._res(kind), namespace, name, apply, sub))

    def delete(self, kind: str, namespace: str, name: str) -> None:
        self.cluster.delete(self._res(kind), namespace, name, {})

    def pods(self, namespace: str, labels: dict[str, str]) -> list[dict]:
        """Pods of ``namespace`` whose labels include ``labels`` and that are not deleting."""
        return [
            p
            for p in self.list("Pod", namespace)
            if not p["metadata"].get("deletionTimestamp")
            and all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())
        ]
