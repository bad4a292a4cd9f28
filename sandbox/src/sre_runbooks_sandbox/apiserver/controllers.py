"""Simulated control plane: the controllers, scheduler and kubelets of a small cluster.

One background thread runs every reconcile pass in a fixed order whenever something changed (and
once a second), so results are deterministic and converge in a few milliseconds:

* namespace: finishes deleting terminating namespaces; publishes kube-root-ca.crt
* garbage collector: deletes objects whose owners are gone; foreground and orphan deletion
* deployment: ReplicaSets named <deployment>-<pod-template-hash>, revisions, status
* replicaset, statefulset, daemonset: pods and ControllerRevisions, status
* scheduler: binds pending pods to nodes
* kubelet (kubelet.py): runs bound pods as the Workloads say, stops deleted ones
* endpoints: Endpoints of Services from ready pods

Each writes through `Cluster`, like any client, and records the Events a real cluster records.
Rolling updates step within maxSurge/maxUnavailable; pods become Ready as soon as they are bound.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import math
import threading
from collections.abc import Iterable

from . import errors
from .api import Cluster
from .kubelet import Kubelets
from .objects import fnv32a, now, now_micro, safe_encode
from .resources import Resource
from .selectors import selector_matches

_log = logging.getLogger(__name__)

REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
HASH_LABEL = "pod-template-hash"
REVISION_LABEL = "controller-revision-hash"
# Deployment annotations the controller does not copy to its ReplicaSets.
_NOT_COPIED = {
    REVISION,
    REVISION_HISTORY,
    DESIRED,
    MAX_REPLICAS,
    "kubectl.kubernetes.io/last-applied-configuration",
}


def _owned_by(obj: dict, owner: dict) -> bool:
    return any(
        ref.get("uid") == owner["metadata"]["uid"] and ref.get("controller")
        for ref in obj["metadata"].get("ownerReferences") or []
    )


def _owner_ref(owner: dict) -> dict:
    return {
        "apiVersion": owner["apiVersion"],
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }


def _canonical(value: object) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def template_hash(template: dict, collisions: int = 0) -> str:
    """The pod-template-hash of a pod template (FNV-1a over its canonical JSON)."""
    return safe_encode(fnv32a(_canonical(template) + str(collisions).encode()))


def _without_hash(template: dict) -> dict:
    clean = copy.deepcopy(template)
    labels = clean.get("metadata", {}).get("labels") or {}
    labels.pop(HASH_LABEL, None)
    return clean


def _is_ready(pod: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in pod.get("status", {}).get("conditions") or []
    )


def _is_active(pod: dict) -> bool:
    return not pod["metadata"].get("deletionTimestamp") and pod.get("status", {}).get(
        "phase"
    ) not in {"Succeeded", "Failed"}


def _percent(value: object, total: int, *, round_up: bool) -> int:
    if isinstance(value, str) and value.endswith("%"):
        exact = int(value[:-1]) * total / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value or 0)


def _condition(
    conditions: list[dict], kind: str, status: str, reason: str, message: str, *, probe: bool
) -> list[dict]:
    """Set one condition, keeping timestamps unless its status or text changes."""
    stamp = now()
    out = [c for c in conditions if c.get("type") != kind]
    old = next((c for c in conditions if c.get("type") == kind), None)
    new = {"message": message, "reason": reason, "status": status, "type": kind}
    if probe:
        new["lastUpdateTime"] = stamp
    new["lastTransitionTime"] = stamp
    if old is not None:
        if old.get("status") == status:
            new["lastTransitionTime"] = old.get("lastTransitionTime", stamp)
        if probe and old.get("reason") == reason and old.get("message") == message:
            new["lastUpdateTime"] = old.get("lastUpdateTime", stamp)
        out.insert(conditions.index(old), new)
    else:
        out.append(new)
    return out


# What the DaemonSet controller adds so its pods run on cordoned and pressured nodes too.
_DAEMON_TOLERATIONS = [
    {"effect": "NoExecute", "key": "node.kubernetes.io/not-ready", "operator": "Exists"},
    {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/disk-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/memory-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/pid-pressure", "operator": "Exists"},
    {"effect": "NoSchedule", "key": "node.kubernetes.io/unschedulable", "operator": "Exists"},
]


def _tolerates(pod: dict, taint: dict) -> bool:
    for toleration in pod["spec"].get("tolerations") or []:
        if toleration.get("effect") not in (None, "", taint.get("effect")):
            continue
        if toleration.get("operator") == "Exists" and toleration.get("key") in (
            None,
            "",
            taint["key"],
        ):
            return True
        if toleration.get("key") == taint["key"] and toleration.get("value") == taint.get("value"):
            return True
    return False


def _misfit(pod: dict, node: dict) -> str | None:
    """Why the scheduler would not place `pod` on `node` (its wording), or None if it fits."""
    spec, name = pod["spec"], node["metadata"]["name"]
    terms = spec.get("affinity", {}).get("nodeAffinity", {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution", {}
    ).get("nodeSelectorTerms") or [{}]
    fields = terms[0].get("matchFields") or []
    labels = node["metadata"].get("labels") or {}
    if (fields and name not in fields[0].get("values", [])) or any(
        labels.get(k) != v for k, v in (spec.get("nodeSelector") or {}).items()
    ):
        return "node(s) didn't match Pod's node affinity/selector"
    unschedulable = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    if node.get("spec", {}).get("unschedulable") and not _tolerates(pod, unschedulable):
        return "node(s) were unschedulable"
    for taint in node.get("spec", {}).get("taints") or []:
        if taint.get("effect") in {"NoSchedule", "NoExecute"} and not _tolerates(pod, taint):
            value = f": {taint['value']}" if taint.get("value") else ""
            return f"node(s) had untolerated taint {{{taint['key']}{value}}}"
    return None


def _revision_of(rs: dict) -> int:
    return int((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))


def _rolling_limits(spec: dict, desired: int) -> tuple[int, int]:
    """maxSurge (rounded up) and maxUnavailable (rounded down); both zero is read as 0 and 1."""
    rolling = spec["strategy"].get("rollingUpdate") or {}
    surge = _percent(rolling.get("maxSurge", 0), desired, round_up=True)
    unavailable = _percent(rolling.get("maxUnavailable", 0), desired, round_up=False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def _new_replicaset_target(spec: dict, new_rs: dict | None, old: list[dict]) -> int:
    """How many replicas the new ReplicaSet may have now, per the deployment strategy."""
    desired = spec.get("replicas", 1)
    current = new_rs["spec"].get("replicas", 0) if new_rs else 0
    old_total = sum(rs["spec"].get("replicas", 0) for rs in old)
    if spec.get("paused"):
        return current
    if spec["strategy"].get("type") == "Recreate":
        old_pods = sum(rs.get("status", {}).get("replicas", 0) for rs in old)
        return desired if old_total == 0 and old_pods == 0 else 0
    if current >= desired or old_total == 0:
        return desired
    surge, _ = _rolling_limits(spec, desired)
    return min(desired, current + max(desired + surge - old_total - current, 0))


class ControlPlane:
    """The reconcile loop over all controllers, on its own daemon thread."""

    # Nothing in the simulation depends on the clock, so passes run when something changed; the
    # tick is only a safety net.
    TICK = 1.0
    RETRY = 0.1

    def __init__(self, cluster: Cluster, nodes: Iterable[str]) -> None:
        self.cluster = cluster
        self.nodes = list(nodes)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sandbox-controllers", daemon=True)
        self._unschedulable_reported: set[str] = set()
        c = cluster
        self.r_ns = c.resource("", "v1", "namespaces")
        self.r_node = c.resource("", "v1", "nodes")
        self.r_pod = c.resource("", "v1", "pods")
        self.r_cm = c.resource("", "v1", "configmaps")
        self.r_event = c.resource("", "v1", "events")
        self.r_svc = c.resource("", "v1", "services")
        self.r_ep = c.resource("", "v1", "endpoints")
        self.r_deploy = c.resource("apps", "v1", "deployments")
        self.r_rs = c.resource("apps", "v1", "replicasets")
        self.r_sts = c.resource("apps", "v1", "statefulsets")
        self.r_ds = c.resource("apps", "v1", "daemonsets")
        self.r_cr = c.resource("apps", "v1", "controllerrevisions")
        self._kubelets = Kubelets(self)
        cluster.store.add_listener(lambda change: self._wake.set())

    # -- lifecycle --------------------------------------------------------------------------

    def bootstrap(self) -> None:
        """Create what every cluster starts with: system namespaces and the nodes."""
        for name in ("default", "kube-node-lease", "kube-public", "kube-system"):
            self.cluster.create(self.r_ns, "", {"metadata": {"name": name}})
        for index, name in enumerate(self.nodes):
            self.cluster.create(self.r_node, "", self._node(name, index))
        # Every cluster has the API server's own Service in `default`.
        self.cluster.create(
            self.r_svc,
            "default",
            {
                "metadata": {
                    "labels": {"component": "apiserver", "provider": "kubernetes"},
                    "name": "kubernetes",
                },
                "spec": {
                    "clusterIP": "10.96.0.1",
                    "ports": [
                        {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}
                    ],
                },
            },
        )
        self.reconcile()

    def start(self) -> None:
        """Run the loop in the background."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the loop and wait for it."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        self._kubelets.close()

    def wake(self) -> None:
        """Run a pass soon: something outside the store changed (a pod's workload answered)."""
        self._wake.set()

    def _run(self) -> None:
        retry = False
        while not self._stop.is_set():
            # After a failed pass, try again soon; otherwise sleep until something changes.
            self._wake.wait(self.RETRY if retry else self.TICK)
            self._wake.clear()
            if self._stop.is_set():
                return
            retry = not self.reconcile()

    def reconcile(self) -> bool:
        """One pass of every controller, in a fixed order; False if one of them failed."""
        ok = True
        for controller in (
            self.namespaces,
            self.garbage_collector,
            self.deployments,
            self.replicasets,
            self.statefulsets,
            self.daemonsets,
            self.scheduler,
            self.kubelet,
            self.endpoints,
        ):
            try:
                controller()
            except errors.ApiError:
                # A client changed something under us (a conflict, a deleted owner): the next
                # pass sees the new state and tries again, as real controllers requeue.
                ok = False
            except Exception:
                # A bug or an object we cannot handle must not stop the other controllers.
                _log.exception("sandbox controller %s failed", controller.__name__)
                ok = False
        return ok

    # -- helpers ----------------------------------------------------------------------------

    def _all(self, res: Resource, namespace: str | None = None) -> list[dict]:
        items, _ = self.cluster.store.list(res.storage_key, namespace)
        return items

    def _node(self, name: str, index: int) -> dict:
        capacity = {"cpu": "8", "ephemeral-storage": "102400Mi", "memory": "32Gi", "pods": "110"}
        stamp = now()
        conditions = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            ("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            ("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
        ]
        return {
            "metadata": {
                "labels": {
                    "kubernetes.io/arch": "amd64",
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "topology.kubernetes.io/region": "sandbox",
                    "topology.kubernetes.io/zone": f"sandbox-{'abc'[index % 3]}",
                },
                "name": name,
            },
            "spec": {"podCIDR": f"10.244.{index}.0/24", "podCIDRs": [f"10.244.{index}.0/24"]},
            "status": {
                "addresses": [
                    {"address": "127.0.0.1", "type": "InternalIP"},
                    {"address": name, "type": "Hostname"},
                ],
                "allocatable": capacity,
                "capacity": capacity,
                "conditions": [
                    {
                        "lastHeartbeatTime": stamp,
                        "lastTransitionTime": stamp,
                        "message": msg,
                        "reason": reason,
                        "status": status,
                        "type": kind,
                    }
                    for kind, status, reason, msg in conditions
                ],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {
                    "architecture": "amd64",
                    "bootID": self.cluster.ids.uid(),
                    "containerRuntimeVersion": "containerd://2.1.0",
                    "kernelVersion": "6.8.0",
                    "kubeProxyVersion": "",
                    "kubeletVersion": self.cluster.discovery.version["gitVersion"],
                    "machineID": self.cluster.ids.hex(32),
                    "operatingSystem": "linux",
                    "osImage": "Sandbox Linux",
                    "systemUUID": self.cluster.ids.uid(),
                },
            },
        }

    def event(
        self,
        obj: dict,
        reason: str,
        message: str,
        component: str,
        *,
        host: str = "",
        field_path: str = "",
        kind: str = "Normal",
    ) -> str | None:
        """Record a core/v1 Event about `obj`, as client-go's event recorder does; its name."""
        meta = obj["metadata"]
        stamp = now()
        involved = {
            "apiVersion": obj["apiVersion"],
            "kind": obj["kind"],
            "name": meta["name"],
            "namespace": meta.get("namespace", "default"),
            "resourceVersion": meta.get("resourceVersion", ""),
            "uid": meta["uid"],
        }
        if field_path:
            involved["fieldPath"] = field_path
        body: dict = {
            "count": 1,
            "eventTime": None,
            "firstTimestamp": stamp,
            "involvedObject": involved,
            "lastTimestamp": stamp,
            "message": message,
            "metadata": {
                "name": f"{meta['name']}.{self.cluster.ids.hex(16)}",
                "namespace": involved["namespace"],
            },
            "reason": reason,
            "reportingComponent": component,
            "reportingInstance": host,
            "source": {"component": component, **({"host": host} if host else {})},
            "type": kind,
        }
        if component == "default-scheduler":
            # The scheduler uses the events.k8s.io API: eventTime and action, no count/source.
            body.update(
                action="Binding",
                eventTime=now_micro(),
                firstTimestamp=None,
                lastTimestamp=None,
                reportingInstance="default-scheduler-sandbox",
                source={},
            )
            del body["count"]
        # If the namespace is going away, so are its events: a failure is of no consequence.
        with contextlib.suppress(errors.ApiError):
            return self.cluster.create(self.r_event, involved["namespace"], body)["metadata"][
                "name"
            ]
        return None

    def _scale_event(self, deploy: dict, rs: dict, old: int, new: int) -> None:
        direction = "up" if new > old else "down"
        self.event(
            deploy,
            "ScalingReplicaSet",
            f"Scaled {direction} replica set {rs['metadata']['name']} from {old} to {new}",
            "deployment-controller",
        )

    # -- namespace controller and garbage collector ------------------------------------------

    def namespaces(self) -> None:
        """Publish kube-root-ca.crt and finish deleting terminating namespaces."""
        store = self.cluster.store
        for ns in self._all(self.r_ns):
            name = ns["metadata"]["name"]
            if not ns["metadata"].get("deletionTimestamp"):
                if store.get(self.r_cm.storage_key, name, "kube-root-ca.crt") is None:
                    self.cluster.create(
                        self.r_cm,
                        name,
                        {
                            "metadata": {
                                "annotations": {
                                    "kubernetes.io/description": "Contains a CA bundle that "
                                    "can be used to verify the kube-apiserver when using "
                                    "internal endpoints such as the internal service IP or "
                                    "kubernetes.default.svc. No other usage is guaranteed "
                                    "across distributions of Kubernetes clusters."
                                },
                                "name": "kube-root-ca.crt",
                            },
                            "data": {
                                "ca.crt": "-----BEGIN CERTIFICATE-----\nsandbox\n"
                                "-----END CERTIFICATE-----\n"
                            },
                        },
                    )
                continue
            with store.lock:
                for res in self.cluster.discovery.resources.values():
                    if not res.namespaced or res.storage_key != (res.group, res.plural):
                        continue
                    for obj in self._all(res, name):
                        store.remove(res.storage_key, name, obj["metadata"]["name"])
                store.remove(self.r_ns.storage_key, "", name)

    def garbage_collector(self) -> None:
        """Delete dependents of deleted owners; finish foreground and orphan deletions."""
        cluster, store = self.cluster, self.cluster.store
        everything: list[tuple[Resource, dict]] = []
        for res in cluster.discovery.resources.values():
            # Events never have owners; skipping them keeps idle passes cheap.
            if res.storage_key == (res.group, res.plural) and res.kind != "Event":
                everything.extend((res, obj) for obj in self._all(res))
        live = {obj["metadata"]["uid"]: obj for _, obj in everything}
        dependents: dict[str, list[tuple[Resource, dict]]] = {}
        for res, obj in everything:
            refs = obj["metadata"].get("ownerReferences") or []
            for ref in refs:
                dependents.setdefault(ref.get("uid", ""), []).append((res, obj))
            if refs and not any(ref.get("uid") in live for ref in refs):
                self._delete(res, obj)
        for res, obj in everything:
            meta = obj["metadata"]
            finalizers = meta.get("finalizers") or []
            if not meta.get("deletionTimestamp"):
                continue
            children = dependents.get(meta["uid"], [])
            if "orphan" in finalizers:
                for child_res, child in children:
                    child["metadata"]["ownerReferences"] = [
                        r for r in child["metadata"]["ownerReferences"] if r["uid"] != meta["uid"]
                    ]
                    cluster.save(child_res, child)
                meta["finalizers"] = [f for f in finalizers if f != "orphan"]
                cluster.save(res, obj)
            elif "foregroundDeletion" in finalizers:
                alive = [
                    c
                    for c in children
                    if store.get(
                        c[0].storage_key,
                        c[1]["metadata"].get("namespace", ""),
                        c[1]["metadata"]["name"],
                    )
                    is not None
                ]
                for child_res, child in alive:
                    # As the real garbage collector does: the dependents of an owner deleted in
                    # the foreground go in the foreground too, so the owner outlives its
                    # grandchildren (a Deployment its ReplicaSets' terminating pods).
                    self._delete(child_res, child, foreground=True)
                if not alive:
                    meta["finalizers"] = [f for f in finalizers if f != "foregroundDeletion"]
                    cluster.save(res, obj)

    def _delete(self, res: Resource, obj: dict, *, foreground: bool = False) -> None:
        meta = obj["metadata"]
        if meta.get("deletionTimestamp"):
            return
        options = {"propagationPolicy": "Foreground"} if foreground else {}
        with contextlib.suppress(errors.ApiError):  # already gone
            self.cluster.delete(res, meta.get("namespace", ""), meta["name"], options)

    # -- deployments ------------------------------------------------------------------------

    def deployments(self) -> None:
        """Roll Deployments out through ReplicaSets and report their status."""
        for deploy in self._all(self.r_deploy):
            if not deploy["metadata"].get("deletionTimestamp"):
                self._deployment(deploy)

    def _deployment(self, deploy: dict) -> None:
        cluster = self.cluster
        meta, spec = deploy["metadata"], deploy["spec"]
        ns = meta["namespace"]
        owned = [rs for rs in self._all(self.r_rs, ns) if _owned_by(rs, deploy)]
        template = spec["template"]
        new_rs = next(
            (rs for rs in owned if _without_hash(rs["spec"]["template"]) == template), None
        )
        old = [rs for rs in owned if rs is not new_rs]
        max_old = max(
            (int(rs["metadata"].get("annotations", {}).get(REVISION, "0")) for rs in old),
            default=0,
        )
        desired = spec.get("replicas", 1)
        surge, _ = _rolling_limits(spec, desired)
        annotations = {
            k: v for k, v in (meta.get("annotations") or {}).items() if k not in _NOT_COPIED
        }
        target = _new_replicaset_target(spec, new_rs, old)
        progressing: tuple[str, str | None] = ("ReplicaSetUpdated", None)
        if new_rs is None:
            if spec.get("paused"):
                return
            new_rs = self._new_replicaset(deploy, max_old + 1, target, surge, annotations)
            progressing = ("NewReplicaSetCreated", 'Created new replica set "{}"')
            if target:
                self._scale_event(deploy, new_rs, 0, target)
        else:
            new_rs, progressing = self._sync_new_replicaset(
                deploy,
                new_rs,
                max_old,
                target,
                {**annotations, DESIRED: str(desired), MAX_REPLICAS: str(desired + surge)},
            )
        if not spec.get("paused"):
            self._scale_down_old(deploy, new_rs, old)
        revision = new_rs["metadata"]["annotations"][REVISION]
        if (meta.get("annotations") or {}).get(REVISION) != revision:
            meta.setdefault("annotations", {})[REVISION] = revision
            deploy = cluster.save(self.r_deploy, deploy)
        self._deployment_status(deploy, new_rs, old, progressing)

    def _sync_new_replicaset(
        self, deploy: dict, new_rs: dict, max_old: int, target: int, annotations: dict
    ) -> tuple[dict, tuple[str, str | None]]:
        """Bring an existing ReplicaSet for the current template up to date."""
        progressing: tuple[str, str | None] = ("ReplicaSetUpdated", None)
        spec = deploy["spec"]
        rs_ann = new_rs["metadata"].setdefault("annotations", {})
        before = copy.deepcopy(new_rs)
        revision = int(rs_ann.get(REVISION, "0"))
        if revision <= max_old:
            # A template used before becomes the newest revision again; the number it had is
            # remembered in revision-history, as kube-controller-manager does.
            history = [h for h in rs_ann.get(REVISION_HISTORY, "").split(",") if h]
            rs_ann[REVISION_HISTORY] = ",".join([*history, str(revision)])
            rs_ann[REVISION] = str(max_old + 1)
            progressing = ("FoundNewReplicaSet", 'Found new replica set "{}"')
        rs_ann.update(annotations)
        if new_rs["spec"]["replicas"] != target and not spec.get("paused"):
            self._scale_event(deploy, new_rs, new_rs["spec"]["replicas"], target)
            new_rs["spec"]["replicas"] = target
        if new_rs != before:
            new_rs = self.cluster.save(self.r_rs, new_rs)
        return new_rs, progressing

    def _scale_down_old(self, deploy: dict, new_rs: dict, old: list[dict]) -> None:
        """Scale old ReplicaSets down as far as the strategy allows (oldest revision first)."""
        spec = deploy["spec"]
        desired = spec.get("replicas", 1)
        _, unavailable = _rolling_limits(spec, desired)
        if spec["strategy"].get("type") == "Recreate":
            room = sum(rs["spec"].get("replicas", 0) for rs in old)
        else:
            # Keep at least desired - maxUnavailable pods available, counting the new
            # ReplicaSet's not-yet-available pods as unavailable.
            every = [new_rs, *old]
            total = sum(rs["spec"].get("replicas", 0) for rs in every)
            new_unavailable = max(
                new_rs["spec"]["replicas"] - new_rs.get("status", {}).get("availableReplicas", 0),
                0,
            )
            room = total - (desired - unavailable) - new_unavailable
        for rs in sorted(old, key=_revision_of):
            current = rs["spec"].get("replicas", 0)
            if room <= 0:
                return
            if not current:
                continue
            wanted = current - min(current, room)
            room -= current - wanted
            self._scale_event(deploy, rs, current, wanted)
            rs["spec"]["replicas"] = wanted
            self.cluster.save(self.r_rs, rs)

    def _new_replicaset(
        self, deploy: dict, revision: int, replicas: int, surge: int, annotations: dict
    ) -> dict:
        meta = deploy["metadata"]
        desired = deploy["spec"].get("replicas", 1)
        template = copy.deepcopy(deploy["spec"]["template"])
        collisions = deploy.get("status", {}).get("collisionCount", 0)
        pod_hash = template_hash(template, collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = copy.deepcopy(deploy["spec"]["selector"])
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        body = {
            "metadata": {
                "annotations": {
                    **annotations,
                    DESIRED: str(desired),
                    MAX_REPLICAS: str(desired + surge),
                    REVISION: str(revision),
                },
                "labels": template["metadata"]["labels"],
                "name": f"{meta['name']}-{pod_hash}",
                "ownerReferences": [_owner_ref(deploy)],
            },
            "spec": {"replicas": replicas, "selector": selector, "template": template},
        }
        return self.cluster.create(self.r_rs, meta["namespace"], body)

    def _deployment_status(
        self, deploy: dict, new_rs: dict, old: list[dict], progressing: tuple
    ) -> None:
        spec = deploy["spec"]
        desired = spec.get("replicas", 1)
        every = [new_rs, *old]

        def total(key: str, sets: list[dict]) -> int:
            return sum(rs.get("status", {}).get(key, 0) for rs in sets)

        replicas = total("replicas", every)
        available = total("availableReplicas", every)
        updated = total("replicas", [new_rs])
        max_unavailable = _percent(
            spec["strategy"].get("rollingUpdate", {}).get("maxUnavailable", 0),
            desired,
            round_up=False,
        )
        status = copy.deepcopy(deploy.get("status") or {})
        status.update(
            observedGeneration=deploy["metadata"]["generation"],
            replicas=replicas,
            updatedReplicas=updated,
            readyReplicas=total("readyReplicas", every),
            availableReplicas=available,
            terminatingReplicas=total("terminatingReplicas", every),
        )
        for key in ("readyReplicas", "availableReplicas", "updatedReplicas"):
            if not status[key]:
                del status[key]
        unavailable = max(replicas - available, 0) if replicas else desired
        if unavailable:
            status["unavailableReplicas"] = unavailable
        else:
            status.pop("unavailableReplicas", None)
        conditions = status.get("conditions") or []
        if available >= desired - max_unavailable:
            conditions = _condition(
                conditions,
                "Available",
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
                probe=True,
            )
        else:
            conditions = _condition(
                conditions,
                "Available",
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
                probe=True,
            )
        name = new_rs["metadata"]["name"]
        if updated == desired and replicas == desired and available >= desired:
            reason, message = (
                "NewReplicaSetAvailable",
                f'ReplicaSet "{name}" has successfully progressed.',
            )
        elif progressing[1] is not None:
            reason, message = progressing[0], progressing[1].format(name)
        else:
            reason, message = "ReplicaSetUpdated", f'ReplicaSet "{name}" is progressing.'
        conditions = _condition(conditions, "Progressing", "True", reason, message, probe=True)
        order = {"Available": 0, "Progressing": 1}
        status["conditions"] = sorted(conditions, key=lambda c: order.get(c["type"], 2))
        deploy["status"] = status
        self.cluster.save(self.r_deploy, deploy, status=True)

    # -- replicasets ------------------------------------------------------------------------

    def replicasets(self) -> None:
        """Keep each ReplicaSet's pod count at spec.replicas and report its status."""
        pods = self._all(self.r_pod)
        for rs in self._all(self.r_rs):
            if rs["metadata"].get("deletionTimestamp"):
                continue
            mine = [p for p in pods if _owned_by(p, rs)]
            active = [p for p in mine if _is_active(p)]
            want = rs["spec"].get("replicas", 1)
            if len(active) < want:
                for _ in range(want - len(active)):
                    active.append(self._create_pod(rs, "replicaset-controller"))
            elif len(active) > want:
                # Delete the least useful pods first: unscheduled, then not ready, then newest.
                active.sort(
                    key=lambda p: (
                        bool(p["spec"].get("nodeName")),
                        _is_ready(p),
                        p["metadata"]["creationTimestamp"],
                    ),
                )
                for pod in active[: len(active) - want]:
                    self._delete(self.r_pod, pod)
                    self.event(
                        rs,
                        "SuccessfulDelete",
                        f"Deleted pod: {pod['metadata']['name']}",
                        "replicaset-controller",
                    )
                active = active[len(active) - want :]
            ready = sum(1 for p in active if _is_ready(p))
            status = {
                "observedGeneration": rs["metadata"]["generation"],
                "replicas": len(active),
                "terminatingReplicas": sum(
                    1 for p in mine if p["metadata"].get("deletionTimestamp")
                ),
            }
            for key, value in (
                ("fullyLabeledReplicas", len(active)),
                ("readyReplicas", ready),
                ("availableReplicas", ready),
            ):
                if value:
                    status[key] = value
            if rs.get("status") != status:
                rs["status"] = status
                self.cluster.save(self.r_rs, rs, status=True)

    def _create_pod(
        self,
        owner: dict,
        component: str,
        name: str = "",
        labels: dict | None = None,
        spec_extra: dict | None = None,
    ) -> dict:
        template = copy.deepcopy(owner["spec"]["template"])
        meta = copy.deepcopy(template.get("metadata") or {})
        meta["labels"] = {**(meta.get("labels") or {}), **(labels or {})}
        meta["ownerReferences"] = [_owner_ref(owner)]
        if name:
            meta["name"] = name
        else:
            meta["generateName"] = f"{owner['metadata']['name']}-"
        spec = {**template.get("spec", {}), **(spec_extra or {})}
        pod = self.cluster.create(
            self.r_pod, owner["metadata"]["namespace"], {"metadata": meta, "spec": spec}
        )
        pod_name = pod["metadata"]["name"]
        if owner["kind"] == "StatefulSet":
            message = f"create Pod {pod_name} in StatefulSet {owner['metadata']['name']} successful"
        else:
            message = f"Created pod: {pod_name}"
        self.event(owner, "SuccessfulCreate", message, component)
        return pod

    # -- controller revisions (StatefulSets and DaemonSets) -----------------------------------

    def _revision(self, owner: dict) -> tuple[dict, list[dict]]:
        """The ControllerRevision for the owner's current template, and all of its revisions."""
        ns = owner["metadata"]["namespace"]
        revisions = [r for r in self._all(self.r_cr, ns) if _owned_by(r, owner)]
        data = {"spec": {"template": {**owner["spec"]["template"], "$patch": "replace"}}}
        newest = max((r.get("revision", 0) for r in revisions), default=0)
        current = next((r for r in revisions if r.get("data") == data), None)
        if current is None:
            collisions = owner.get("status", {}).get("collisionCount", 0)
            digest = template_hash(data, collisions)
            labels = {
                **(owner["spec"]["template"].get("metadata", {}).get("labels") or {}),
                "controller.kubernetes.io/hash": digest,
            }
            current = self.cluster.create(
                self.r_cr,
                ns,
                {
                    "data": data,
                    "metadata": {
                        "labels": labels,
                        "name": f"{owner['metadata']['name']}-{digest}",
                        "ownerReferences": [_owner_ref(owner)],
                    },
                    "revision": newest + 1,
                },
            )
            revisions.append(current)
        elif current.get("revision", 0) < newest:
            # An old template again (e.g. after `kubectl rollout undo`): its revision is renumbered.
            current["revision"] = newest + 1
            current = self.cluster.save(self.r_cr, current)
        limit = owner["spec"].get("revisionHistoryLimit", 10)
        stale = sorted(
            (r for r in revisions if r["metadata"]["name"] != current["metadata"]["name"]),
            key=lambda r: r.get("revision", 0),
        )
        for old in stale[: max(len(stale) - limit, 0)]:
            self._delete(self.r_cr, old)
        return current, revisions

    # -- statefulsets -----------------------------------------------------------------------

    def statefulsets(self) -> None:
        """Ordinal pods <name>-0..N-1, updated in reverse order, with ControllerRevisions."""
        pods = self._all(self.r_pod)
        for sts in self._all(self.r_sts):
            if not sts["metadata"].get("deletionTimestamp"):
                self._statefulset(sts, [p for p in pods if _owned_by(p, sts)])

    def _statefulset(self, sts: dict, pods: list[dict]) -> None:
        revision, _ = self._revision(sts)
        update_rev = revision["metadata"]["name"]
        spec = sts["spec"]
        want = spec.get("replicas", 1)
        by_name = {p["metadata"]["name"]: p for p in pods}
        partition = (spec.get("updateStrategy", {}).get("rollingUpdate") or {}).get("partition", 0)
        busy = self._statefulset_pods(sts, by_name, update_rev)
        extra = [p for n, p in by_name.items() if self._ordinal(n) >= want and _is_active(p)]
        if extra:
            # Scale down one pod at a time, highest ordinal first.
            self._statefulset_delete(
                sts, max(extra, key=lambda p: self._ordinal(p["metadata"]["name"]))
            )
            busy = True
        rolling = spec.get("updateStrategy", {}).get("type", "RollingUpdate") == "RollingUpdate"
        outdated = [
            p
            for n, p in by_name.items()
            if partition <= self._ordinal(n) < want
            and _is_active(p)
            and p["metadata"]["labels"].get(REVISION_LABEL) != update_rev
        ]
        if rolling and outdated and not busy:
            # Replace one outdated pod at a time, highest ordinal first, once all are ready.
            self._statefulset_delete(
                sts, max(outdated, key=lambda p: self._ordinal(p["metadata"]["name"]))
            )
        live = [p for p in by_name.values() if self._ordinal(p["metadata"]["name"]) < want]
        active = [p for p in live if _is_active(p)]
        ready = sum(1 for p in active if _is_ready(p))
        updated = sum(
            1 for p in active if p["metadata"]["labels"].get(REVISION_LABEL) == update_rev
        )
        status = copy.deepcopy(sts.get("status") or {})
        current_rev = status.get("currentRevision") or update_rev
        if updated == want and ready == want:
            current_rev = update_rev
        current = sum(
            1 for p in active if p["metadata"]["labels"].get(REVISION_LABEL) == current_rev
        )
        status.update(
            availableReplicas=ready,
            collisionCount=status.get("collisionCount", 0),
            currentReplicas=current,
            currentRevision=current_rev,
            observedGeneration=sts["metadata"]["generation"],
            readyReplicas=ready,
            replicas=len(active),
            updateRevision=update_rev,
            updatedReplicas=updated,
        )
        for key in ("readyReplicas", "currentReplicas", "updatedReplicas"):
            if not status[key]:
                del status[key]
        if status != sts.get("status"):
            sts["status"] = status
            self.cluster.save(self.r_sts, sts, status=True)

    def _statefulset_pods(self, sts: dict, by_name: dict[str, dict], update_rev: str) -> bool:
        """Create missing ordinal pods (in order, each once the previous is ready).

        Returns whether some pod is missing or not ready yet.
        """
        name, spec = sts["metadata"]["name"], sts["spec"]
        ordered = spec.get("podManagementPolicy", "OrderedReady") == "OrderedReady"
        busy = False
        for index in range(spec.get("replicas", 1)):
            pod_name = f"{name}-{index}"
            pod = by_name.get(pod_name)
            if pod is None:
                labels = {
                    REVISION_LABEL: update_rev,
                    "apps.kubernetes.io/pod-index": str(index),
                    "statefulset.kubernetes.io/pod-name": pod_name,
                }
                extra = {"hostname": pod_name}
                if spec.get("serviceName"):
                    extra["subdomain"] = spec["serviceName"]
                by_name[pod_name] = self._create_pod(
                    sts, "statefulset-controller", pod_name, labels, extra
                )
                busy = True
            elif not (_is_active(pod) and _is_ready(pod)):
                busy = True
            if busy and ordered:
                break
        return busy

    def _statefulset_delete(self, sts: dict, pod: dict) -> None:
        self._delete(self.r_pod, pod)
        self.event(
            sts,
            "SuccessfulDelete",
            f"delete Pod {pod['metadata']['name']} in StatefulSet {sts['metadata']['name']} "
            "successful",
            "statefulset-controller",
        )

    @staticmethod
    def _ordinal(pod_name: str) -> int:
        tail = pod_name.rsplit("-", 1)[-1]
        return int(tail) if tail.isdigit() else -1

    # -- daemonsets -------------------------------------------------------------------------

    def daemonsets(self) -> None:
        """One pod per node for each DaemonSet, with ControllerRevisions."""
        pods = self._all(self.r_pod)
        nodes = [n["metadata"]["name"] for n in self._all(self.r_node)]
        for ds in self._all(self.r_ds):
            if not ds["metadata"].get("deletionTimestamp"):
                self._daemonset(ds, nodes, [p for p in pods if _owned_by(p, ds)])

    def _daemonset(self, ds: dict, nodes: list[str], pods: list[dict]) -> None:
        revision, _ = self._revision(ds)
        digest = revision["metadata"]["labels"]["controller.kubernetes.io/hash"]

        def node_of(pod: dict) -> str:
            terms = pod["spec"].get("affinity", {}).get("nodeAffinity", {}).get(
                "requiredDuringSchedulingIgnoredDuringExecution", {}
            ).get("nodeSelectorTerms") or [{}]
            fields = terms[0].get("matchFields") or [{}]
            return (fields[0].get("values") or [pod["spec"].get("nodeName", "")])[0]

        active = [p for p in pods if _is_active(p)]
        busy = any(not _is_ready(p) for p in active)
        for node in nodes:
            if not any(node_of(p) == node for p in active):
                affinity = {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchFields": [
                                        {"key": "metadata.name", "operator": "In", "values": [node]}
                                    ]
                                }
                            ]
                        }
                    }
                }
                labels = {
                    REVISION_LABEL: digest,
                    "pod-template-generation": str(ds["metadata"]["generation"]),
                }
                tolerations = list(ds["spec"]["template"].get("spec", {}).get("tolerations") or [])
                tolerations += [t for t in _DAEMON_TOLERATIONS if t not in tolerations]
                extra = {"affinity": affinity, "tolerations": tolerations}
                active.append(
                    self._create_pod(ds, "daemonset-controller", labels=labels, spec_extra=extra)
                )
                busy = True
        if not busy:
            outdated = [p for p in active if p["metadata"]["labels"].get(REVISION_LABEL) != digest]
            if outdated:
                victim = outdated[0]
                self._delete(self.r_pod, victim)
                self.event(
                    ds,
                    "SuccessfulDelete",
                    f"Deleted pod: {victim['metadata']['name']}",
                    "daemonset-controller",
                )
        ready = sum(1 for p in active if _is_ready(p))
        updated = sum(1 for p in active if p["metadata"]["labels"].get(REVISION_LABEL) == digest)
        status = {
            "currentNumberScheduled": len(active),
            "desiredNumberScheduled": len(nodes),
            "numberMisscheduled": 0,
            "numberReady": ready,
            "observedGeneration": ds["metadata"]["generation"],
        }
        if ready:
            status["numberAvailable"] = ready
        if updated:
            status["updatedNumberScheduled"] = updated
        if len(nodes) - ready > 0:
            status["numberUnavailable"] = len(nodes) - ready
        if status != ds.get("status"):
            ds["status"] = status
            self.cluster.save(self.r_ds, ds, status=True)

    # -- scheduler and kubelets --------------------------------------------------------------

    def scheduler(self) -> None:
        """Bind each pending pod to a fitting node with the fewest pods (ties: by name)."""
        nodes = sorted(self._all(self.r_node), key=lambda n: n["metadata"]["name"])
        pods = self._all(self.r_pod)
        load = {n["metadata"]["name"]: 0 for n in nodes}
        for pod in pods:
            if pod["spec"].get("nodeName") in load:
                load[pod["spec"]["nodeName"]] += 1
        for pod in pods:
            if pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
                continue
            verdicts = {n["metadata"]["name"]: _misfit(pod, n) for n in nodes}
            candidates = [name for name, why in verdicts.items() if why is None]
            if not candidates:
                self._unschedulable(pod, [why for why in verdicts.values() if why])
                continue
            node = min(candidates, key=lambda n: (load[n], n))
            load[node] += 1
            self._bind(pod, node)

    def _unschedulable(self, pod: dict, reasons: list[str]) -> None:
        """Report once that no node fits, the way the scheduler words it."""
        uid = pod["metadata"]["uid"]
        if uid in self._unschedulable_reported:
            return
        self._unschedulable_reported.add(uid)
        total = len(reasons)
        counts = sorted(f"{reasons.count(r)} {r}" for r in set(reasons))
        message = (
            f"0/{total} nodes are available: {', '.join(counts)}. preemption: 0/{total} nodes "
            f"are available: {total} Preemption is not helpful for scheduling."
        )
        self.event(pod, "FailedScheduling", message, "default-scheduler", kind="Warning")

    def _bind(self, pod: dict, node: str) -> None:
        """What the scheduler's Binding does: set the node, mark the pod scheduled, tell."""
        pod["spec"]["nodeName"] = node
        bound = self.cluster.save(self.r_pod, pod, bump=False)
        bound["status"]["conditions"] = [
            {
                "lastProbeTime": None,
                "lastTransitionTime": now(),
                "status": "True",
                "type": "PodScheduled",
            }
        ]
        bound = self.cluster.save(self.r_pod, bound, status=True)
        meta = bound["metadata"]
        self.event(
            bound,
            "Scheduled",
            f"Successfully assigned {meta['namespace']}/{meta['name']} to {node}",
            "default-scheduler",
        )

    def kubelet(self) -> None:
        """Start bound pods, report their containers as the workloads say, stop deleted pods."""
        self._kubelets.sync()

    # -- endpoints --------------------------------------------------------------------------

    def endpoints(self) -> None:
        """Keep an Endpoints object per Service with a selector, listing its ready pods."""
        pods = self._all(self.r_pod)
        for svc in self._all(self.r_svc):
            selector = svc["spec"].get("selector")
            if not selector:
                continue
            meta = svc["metadata"]
            ns = meta["namespace"]
            matching = [
                p
                for p in pods
                if p["metadata"]["namespace"] == ns
                and _is_active(p)
                and p["status"].get("podIP")
                and selector_matches({"matchLabels": selector}, p["metadata"].get("labels") or {})
            ]
            addresses = [
                {
                    "ip": p["status"]["podIP"],
                    "nodeName": p["spec"]["nodeName"],
                    "targetRef": {
                        "kind": "Pod",
                        "name": p["metadata"]["name"],
                        "namespace": ns,
                        "uid": p["metadata"]["uid"],
                    },
                }
                for p in sorted(matching, key=lambda p: p["status"]["podIP"])
                if _is_ready(p)
            ]
            ports = [
                {
                    k: v
                    for k, v in {
                        "name": port.get("name"),
                        "port": port.get("targetPort"),
                        "protocol": port.get("protocol", "TCP"),
                    }.items()
                    if v
                }
                for port in svc["spec"].get("ports") or []
            ]
            body = {
                "metadata": {
                    "labels": meta.get("labels") or {},
                    "name": meta["name"],
                    "namespace": ns,
                }
            }
            if addresses:
                body["subsets"] = [{"addresses": addresses, "ports": ports}]
            existing = self.cluster.store.get(self.r_ep.storage_key, ns, meta["name"])
            if existing is None:
                self.cluster.create(self.r_ep, ns, body)
            elif existing.get("subsets") != body.get("subsets"):
                existing["subsets"] = body.get("subsets")
                if existing["subsets"] is None:
                    del existing["subsets"]
                self.cluster.save(self.r_ep, existing)
