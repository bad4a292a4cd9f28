"""The API server's semantics, independent of HTTP: create, read, update, patch and delete.

`Cluster` applies what a real server does around storage: names and generateName, uid and
timestamps, defaults, generation bumps on spec changes, optimistic concurrency on
resourceVersion, the status and scale subresources, graceful deletion of pods and namespaces,
finalizers, and the events.k8s.io/v1 view of core/v1 events. Controllers write through it too, so
their changes look like any other client's.
"""

from __future__ import annotations

import contextlib
import copy
import threading
from collections.abc import Callable, Iterator

from ..behaviour import GenericWorkloads, Workloads
from . import errors
from .objects import (
    Ids,
    allocate_cluster_ip,
    apply_defaults,
    mount_service_account_token,
    now,
    validate_name,
)
from .resources import GENERATION_KINDS, Discovery, Resource, discovery
from .selectors import selector_string
from .serialization import root_type, stored_form
from .store import Store
from .validation import validate

CORE_EVENTS = ("", "events")


def is_events_view(res: Resource) -> bool:
    """True for events.k8s.io/v1 events, which are stored as core/v1 events."""
    return res.group == "events.k8s.io"


def event_to_v1(core: dict) -> dict:
    """The events.k8s.io/v1 form of a core/v1 Event, as the real server converts it."""
    out: dict = {"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": core["metadata"]}
    pairs = {
        "eventTime": "eventTime",
        "action": "action",
        "reason": "reason",
        "involvedObject": "regarding",
        "related": "related",
        "message": "note",
        "type": "type",
        "reportingComponent": "reportingController",
        "reportingInstance": "reportingInstance",
        "series": "series",
        "source": "deprecatedSource",
        "firstTimestamp": "deprecatedFirstTimestamp",
        "lastTimestamp": "deprecatedLastTimestamp",
        "count": "deprecatedCount",
    }
    for old, new in pairs.items():
        if old in core and core[old] not in ("", 0):
            out[new] = core[old]
    out.setdefault("eventTime", None)
    for key in ("deprecatedFirstTimestamp", "deprecatedLastTimestamp"):
        out.setdefault(key, None)
    out.setdefault("deprecatedSource", {})
    return out


def event_to_core(new: dict) -> dict:
    """The core/v1 form of an events.k8s.io/v1 Event sent by a client."""
    out: dict = {"apiVersion": "v1", "kind": "Event", "metadata": new.get("metadata", {})}
    pairs = {
        "eventTime": "eventTime",
        "action": "action",
        "reason": "reason",
        "regarding": "involvedObject",
        "related": "related",
        "note": "message",
        "type": "type",
        "reportingController": "reportingComponent",
        "reportingInstance": "reportingInstance",
        "series": "series",
        "deprecatedSource": "source",
        "deprecatedFirstTimestamp": "firstTimestamp",
        "deprecatedLastTimestamp": "lastTimestamp",
        "deprecatedCount": "count",
    }
    for old, new_key in pairs.items():
        if old in new:
            out[new_key] = new[old]
    return out


def _strip_for_compare(obj: dict) -> dict:
    clean = copy.deepcopy(obj)
    clean["metadata"].pop("resourceVersion", None)
    clean["metadata"].pop("managedFields", None)
    return clean


class Cluster:
    """The simulated cluster's state and the rules every write goes through."""

    def __init__(
        self, seed: int = 0, workloads: Workloads | None = None, resource_version: int = 0
    ) -> None:
        self.discovery: Discovery = discovery()
        # What runs inside the pods: the kubelet, logs, exec, proxy and metrics ask it.
        self.workloads: Workloads = workloads if workloads is not None else GenericWorkloads()
        # resourceVersions start after ``resource_version`` (a reset cluster continues the
        # numbering of the one it replaces).
        self.store = Store(resource_version)
        self.ids = Ids(seed)
        self._service_ips = 0
        self._local = threading.local()

    # -- helpers --------------------------------------------------------------------------

    @contextlib.contextmanager
    def dry_run(self, enabled: bool = True) -> Iterator[None]:
        """Within the block, this thread's writes are validated and answered but not stored."""
        previous = getattr(self._local, "dry_run", False)
        self._local.dry_run = enabled or previous
        try:
            yield
        finally:
            self._local.dry_run = previous

    def _put(self, key: tuple[str, str], obj: dict, *, created: bool) -> dict:
        if getattr(self._local, "dry_run", False):
            return copy.deepcopy(obj)
        return self.store.put(key, obj, created=created)

    def _remove(self, key: tuple[str, str], namespace: str, name: str) -> dict | None:
        if getattr(self._local, "dry_run", False):
            return self.store.get(key, namespace, name)
        return self.store.remove(key, namespace, name)

    def resource(self, group: str, version: str, plural: str) -> Resource:
        """A served resource; controllers only ask for ones that exist."""
        res = self.discovery.find(group, version, plural)
        if res is None:
            raise KeyError((group, version, plural))
        return res

    def _view(self, res: Resource, obj: dict) -> dict:
        if is_events_view(res):
            return event_to_v1(obj)
        # apiVersion and kind first, as the real server writes them (easier to read with curl).
        rest = {k: v for k, v in obj.items() if k not in {"apiVersion", "kind"}}
        return {"apiVersion": res.api_version, "kind": res.kind, **rest}

    def _check_namespace(self, res: Resource, namespace: str, name: str) -> None:
        if not res.namespaced:
            return
        ns = self.store.get(("", "namespaces"), "", namespace)
        if ns is None:
            raise errors.not_found(self.resource("", "v1", "namespaces"), namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise errors.ApiError(
                403,
                "Forbidden",
                f'{res.qualified} "{name}" is forbidden: unable to create new content in '
                f"namespace {namespace} because it is being terminated",
                {"kind": res.plural},
            )

    # -- reads ------------------------------------------------------------------------------

    def get(self, res: Resource, namespace: str, name: str) -> dict:
        """One object as the client sees it; 404 when missing."""
        obj = self.store.get(res.storage_key, namespace if res.namespaced else "", name)
        if obj is None:
            raise errors.not_found(res, name)
        return self._view(res, obj)

    def list(
        self, res: Resource, namespace: str | None, match: Callable[[dict], bool]
    ) -> tuple[list[dict], int]:
        """Matching objects (without kind/apiVersion, like real list items) and the list RV."""
        view = event_to_v1 if is_events_view(res) else (lambda o: o)
        items, rv = self.store.list(res.storage_key, namespace if res.namespaced else None)
        out = []
        for item in items:
            shown = view(item)
            if match(shown):
                shown.pop("apiVersion", None)
                shown.pop("kind", None)
                out.append(shown)
        return out, rv

    def view(self, res: Resource, obj: dict) -> dict:
        """How a stored object looks through `res` (used by watches)."""
        return self._view(res, copy.deepcopy(obj))

    # -- writes -----------------------------------------------------------------------------

    def create(self, res: Resource, namespace: str, body: dict) -> dict:
        """POST: a new object with identity, defaults and a first resourceVersion."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        obj = event_to_core(body) if is_events_view(res) else copy.deepcopy(body)
        meta = self._identify(res, namespace, obj.setdefault("metadata", {}))
        validate_name(res.kind, meta["name"], res.group)
        validate(res.kind, res.group, obj)
        with self.store.lock:
            self._check_namespace(res, namespace, meta["name"])
            if self.store.get(res.storage_key, meta.get("namespace", ""), meta["name"]):
                raise errors.already_exists(res, meta["name"])
            for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds"):
                meta.pop(key, None)
            meta["uid"] = self.ids.uid()
            meta["creationTimestamp"] = now()
            if res.kind in GENERATION_KINDS:
                meta["generation"] = 1
            if "status" in res.subresources and res.kind not in {"Namespace", "Node"}:
                obj["status"] = {}
            if res.storage_key == CORE_EVENTS:
                obj["apiVersion"], obj["kind"] = "v1", "Event"
            else:
                obj["apiVersion"], obj["kind"] = res.api_version, res.kind
            apply_defaults(res.kind, obj)
            if res.kind == "Pod":
                mount_service_account_token(obj["spec"], self.ids.suffix())
            if res.kind == "Service":
                self._service_ips += 1
                allocate_cluster_ip(obj["spec"], self._service_ips)
            stored_form(root_type(res.kind, res.group), obj)
            stored = self._put(res.storage_key, obj, created=True)
        return self._view(res, stored)

    def _identify(self, res: Resource, namespace: str, meta: dict) -> dict:
        """Settle a new object's namespace and name (generateName gets a random suffix)."""
        if res.namespaced:
            if meta.get("namespace") and meta["namespace"] != namespace:
                raise errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request"
                )
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if not meta.get("name"):
            if not meta.get("generateName"):
                required = "Required value: name or generateName is required"
                raise errors.invalid(
                    res.kind, "", [("metadata.name", "FieldValueRequired", required)], res.group
                )
            meta["name"] = meta["generateName"] + self.ids.suffix()
        return meta

    def update(
        self, res: Resource, namespace: str, name: str, body: dict, subresource: str = ""
    ) -> dict:
        """PUT: replace an object (or its status) if the client saw the latest version."""
        if not isinstance(body, dict):
            raise errors.bad_request("the body of the request was in an unknown format")
        if subresource == "scale":
            return self._update_scale(res, namespace, name, body)
        new = event_to_core(body) if is_events_view(res) else copy.deepcopy(body)
        meta = new.setdefault("metadata", {})
        if meta.get("name", name) != name:
            raise errors.bad_request(
                f"the name of the object ({meta['name']}) does not match the name on the URL "
                f"({name})"
            )
        meta["name"] = name
        ns = namespace if res.namespaced else ""
        with self.store.lock:
            old = self.store.get(res.storage_key, ns, name)
            if old is None:
                raise errors.not_found(res, name)
            if (
                meta.get("resourceVersion")
                and meta["resourceVersion"] != old["metadata"]["resourceVersion"]
            ):
                raise errors.conflict(res, name)
            return self._view(res, self._write(res, old, new, subresource))

    def _write(
        self, res: Resource, old: dict, new: dict, subresource: str = "", *, bump: bool = True
    ) -> dict:
        """Store `new` in place of `old`, keeping what clients may not change (lock held)."""
        if subresource == "status":
            merged = copy.deepcopy(old)
            merged["status"] = new.get("status", {})
            new = merged
        else:
            self._carry_over(res, old, new, bump=bump)
        stored_form(root_type(res.kind, res.group), new)
        meta, old_meta = new.setdefault("metadata", {}), old["metadata"]
        meta["resourceVersion"] = old_meta["resourceVersion"]
        key = res.storage_key
        finalized = bool(old_meta.get("finalizers")) and not meta.get("finalizers")
        # The last finalizer is gone: the deletion that waited for it completes now (a pod still
        # in its grace period is removed by its kubelet instead, a namespace by its controller).
        if (
            meta.get("deletionTimestamp")
            and finalized
            and res.kind != "Namespace"
            and not meta.get("deletionGracePeriodSeconds")
        ):
            return self._remove(key, meta.get("namespace", ""), meta["name"]) or new
        if _strip_for_compare(new) == _strip_for_compare(old):
            return old  # a no-op write keeps the resourceVersion, as on a real server
        return self._put(key, new, created=False)

    def _carry_over(self, res: Resource, old: dict, new: dict, *, bump: bool) -> None:
        """Keep in an updated object what only the server sets, default it, validate it."""
        old_meta, meta = old["metadata"], new.setdefault("metadata", {})
        for key in (
            "uid",
            "creationTimestamp",
            "generation",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "namespace",
            "generateName",
        ):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        if "status" in res.subresources and "status" in old:
            new["status"] = old["status"]
        new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
        apply_defaults(res.kind, new)
        validate(res.kind, res.group, new)
        if res.kind == "Service":
            for key in ("clusterIP", "clusterIPs"):
                if key in old.get("spec", {}):
                    new["spec"][key] = old["spec"][key]
        if bump and res.kind in GENERATION_KINDS and new.get("spec") != old.get("spec"):
            meta["generation"] = old_meta.get("generation", 1) + 1

    def patch(
        self,
        res: Resource,
        namespace: str,
        name: str,
        apply: Callable[[str, dict], dict],
        subresource: str = "",
    ) -> dict:
        """PATCH: `apply(kind, current)` computes the new object from the current one."""
        ns = namespace if res.namespaced else ""
        with self.store.lock:
            old = self.store.get(res.storage_key, ns, name)
            if old is None:
                raise errors.not_found(res, name)
            if subresource == "scale":
                scale = self._scale_view(res, self._view(res, copy.deepcopy(old)))
                return self._update_scale(res, namespace, name, apply("Scale", scale))
            current = self._view(res, copy.deepcopy(old))
            new = apply(res.kind, current)
            if is_events_view(res):
                new = event_to_core(new)
            new_meta = new.setdefault("metadata", {})
            if new_meta.get("resourceVersion") not in (None, old["metadata"]["resourceVersion"]):
                raise errors.conflict(res, name)
            if new_meta.get("name") != name:
                raise errors.bad_request("metadata.name: Invalid value: the name cannot change")
            if subresource != "status" and "status" in res.subresources:
                new["status"] = old.get("status", {})
            return self._view(res, self._write(res, old, new, subresource))

    def delete(self, res: Resource, namespace: str, name: str, options: dict) -> dict:
        """DELETE: remove an object, or start its graceful or finalizer-guarded deletion."""
        ns = namespace if res.namespaced else ""
        with self.store.lock:
            old = self.store.get(res.storage_key, ns, name)
            if old is None:
                raise errors.not_found(res, name)
            meta = old["metadata"]
            pre = options.get("preconditions") or {}
            if any(pre.get(key) not in (None, "", meta[key]) for key in ("uid", "resourceVersion")):
                raise errors.conflict(res, name)
            finalizers = self._deletion_finalizers(meta, options)
            graceful = self._grace_period(res, old, options)
            if meta.get("deletionTimestamp"):
                return self._view(res, old)
            if not finalizers and graceful is None:
                gone = self._remove(res.storage_key, ns, name) or old
                details = {"kind": res.plural, "name": name, "uid": gone["metadata"]["uid"]}
                if res.group:
                    details["group"] = res.group
                if res.kind in {"Pod", "Namespace"}:
                    return self._view(res, gone)
                return {
                    "apiVersion": "v1",
                    "details": details,
                    "kind": "Status",
                    "metadata": {},
                    "status": "Success",
                }
            new = copy.deepcopy(old)
            new["metadata"]["deletionTimestamp"] = now()
            if finalizers:
                new["metadata"]["finalizers"] = finalizers
            if graceful is not None:
                new["metadata"]["deletionGracePeriodSeconds"] = graceful
            if res.kind == "Namespace":
                new["status"]["phase"] = "Terminating"
            return self._view(res, self._put(res.storage_key, new, created=False))

    def evict(self, res: Resource, namespace: str, name: str, eviction: dict) -> dict:
        """POST pods/<name>/eviction: a graceful delete (no PodDisruptionBudgets to consult)."""
        self.delete(res, namespace, name, eviction.get("deleteOptions") or {})
        return {
            "apiVersion": "v1",
            "code": 201,
            "kind": "Status",
            "metadata": {},
            "status": "Success",
        }

    def save(self, res: Resource, new: dict, *, status: bool = False, bump: bool = True) -> dict:
        """Write an object a controller changed; a no-op when nothing changed.

        `status=True` writes only its status (the status subresource); `bump=False` changes the
        spec without a new generation, as the scheduler's binding does.
        """
        meta = new["metadata"]
        with self.store.lock:
            old = self.store.get(res.storage_key, meta.get("namespace", ""), meta["name"])
            if old is None:
                raise errors.not_found(res, meta["name"])
            return self._write(res, old, new, "status" if status else "", bump=bump)

    @staticmethod
    def _deletion_finalizers(meta: dict, options: dict) -> list[str]:
        """The object's finalizers plus the one its propagation policy asks the GC for."""
        policy = options.get("propagationPolicy")
        if options.get("orphanDependents") is True:
            policy = "Orphan"
        finalizers = list(meta.get("finalizers") or [])
        wanted = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(policy or "")
        if wanted and wanted not in finalizers:
            finalizers.append(wanted)
        return finalizers

    @staticmethod
    def _grace_period(res: Resource, obj: dict, options: dict) -> int | None:
        """Seconds of graceful deletion, or None for an immediate one."""
        if res.kind == "Namespace":
            return 0
        if res.kind != "Pod" or not obj.get("spec", {}).get("nodeName"):
            return None  # an unscheduled pod has nothing to stop, so it goes at once
        grace = options.get("gracePeriodSeconds")
        if grace is None:
            grace = obj["spec"].get("terminationGracePeriodSeconds", 30)
        return int(grace) or None  # zero (`--force --grace-period=0`) deletes at once

    # -- scale subresource ------------------------------------------------------------------

    @staticmethod
    def _scale_view(res: Resource, obj: dict) -> dict:
        meta = obj["metadata"]
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {
                key: meta[key]
                for key in ("creationTimestamp", "name", "namespace", "resourceVersion", "uid")
                if key in meta
            },
            "spec": {"replicas": obj.get("spec", {}).get("replicas", 0)},
            "status": {
                "replicas": obj.get("status", {}).get("replicas", 0),
                "selector": selector_string(obj.get("spec", {}).get("selector")),
            },
        }

    def get_scale(self, res: Resource, namespace: str, name: str) -> dict:
        """GET .../scale: the autoscaling/v1 Scale of a workload."""
        return self._scale_view(res, self.get(res, namespace, name))

    def _update_scale(self, res: Resource, namespace: str, name: str, scale: dict) -> dict:
        with self.store.lock:
            old = self.store.get(res.storage_key, namespace, name)
            if old is None:
                raise errors.not_found(res, name)
            wanted = (scale.get("metadata") or {}).get("resourceVersion")
            if wanted and wanted != old["metadata"]["resourceVersion"]:
                raise errors.conflict(res, name)
            replicas = (scale.get("spec") or {}).get("replicas", 0)
            if isinstance(replicas, bool) or not isinstance(replicas, int):
                raise errors.bad_request(
                    "json: cannot unmarshal into Go struct field "
                    "ScaleSpec.spec.replicas of type int32"
                )
            if replicas < 0:
                raise errors.invalid(
                    "Scale",
                    name,
                    [
                        (
                            "spec.replicas",
                            "FieldValueInvalid",
                            f"Invalid value: {replicas}: must be greater than or equal to 0",
                        )
                    ],
                    "autoscaling",
                )
            new = copy.deepcopy(old)
            new["spec"]["replicas"] = replicas
            stored = self._write(res, old, new)
        return self._scale_view(res, stored)
