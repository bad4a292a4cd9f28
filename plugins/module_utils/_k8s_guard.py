# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The remediation guardrails kept in the cluster: a Lease per target and a cooldown stamp.

Private to the collection (k8s_remediation_guard). The decisions are pure functions over the
objects read from the API server, so that unit tests cover them without a cluster.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re

from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    target_text,
)

# Recent mitigations of an object (a JSON list), read by the cooldown and the budget.
MITIGATIONS_ANNOTATION = "sre.runbooks/mitigations"
HISTORY_LIMIT = 20
REPORTING_CONTROLLER = "sre.runbooks"
LEASE_PREFIX = "/apis/coordination.k8s.io/v1"
EVENTS_PREFIX = "/apis/events.k8s.io/v1"
API_VERSIONS = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Pod": "v1",
    "Service": "v1",
    "ConfigMap": "v1",
    "PersistentVolumeClaim": "v1",
    "Node": "v1",
}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def micro_time(moment):
    """A metav1.MicroTime as the API server writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text):
    """A metav1.Time or MicroTime as an aware datetime; None when absent or unreadable."""
    if not text:
        return None
    text = text.replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return None


def lease_name(kind, name):
    """One Lease per target: ``sre-runbooks-<kind>-<name>``, a valid name of at most 253 chars."""
    base = "sre-runbooks-%s-%s" % (kind.lower(), name)
    if len(base) <= 253:
        return base
    digest = hashlib.sha256(base.encode("utf-8")).hexdigest()[:10]
    return base[:242] + "-" + digest


def lease_holder(lease, now):
    """The identity holding ``lease`` at ``now``, or None when it is free or has expired."""
    spec = (lease or {}).get("spec") or {}
    holder = spec.get("holderIdentity")
    if not holder:
        return None
    renewed = parse_time(spec.get("renewTime") or spec.get("acquireTime"))
    duration = spec.get("leaseDurationSeconds") or 0
    if renewed is None or (now - renewed).total_seconds() >= duration:
        return None
    return holder


def lease_spec(holder, duration, now, previous=None):
    """The spec that makes ``holder`` the holder of a Lease whose spec was ``previous``."""
    previous = previous or {}
    transitions = previous.get("leaseTransitions") or 0
    if previous.get("holderIdentity") not in (None, "", holder):
        transitions += 1
    return {
        "holderIdentity": holder,
        "leaseDurationSeconds": int(duration),
        "acquireTime": micro_time(now),
        "renewTime": micro_time(now),
        "leaseTransitions": transitions,
    }


def _entry_time(entry):
    return parse_time(entry.get("at")) if isinstance(entry, dict) else None


def mitigation_history(obj):
    """The recent mitigations kept on an object, oldest first (dicts: at, alert, run, actions).

    Unreadable annotations and entries count as no history: a broken stamp must not block a cure.
    """
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(MITIGATIONS_ANNOTATION)
    if not raw:
        return []
    try:
        entries = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    readable = [entry for entry in entries if _entry_time(entry) is not None]
    return sorted(readable, key=_entry_time)


def _seconds_left(window, since, now):
    left = window - (now - since).total_seconds()
    return int(left) + 1 if left > 0 else 0


def hold_back(history, alert, now, limits):
    """Why a run of ``alert`` must leave an object alone, or None when it may act.

    The cooldown stops storms: ``alert``'s own remediation of the object is not repeated within
    ``limits.cooldown`` seconds; another alert's earlier cure does not count. The budget stops
    flapping: after ``limits.budget`` mitigations of the object by any alerts within
    ``limits.budget_window`` seconds, nothing touches it until enough of them have left the
    window. 0 turns either off.
    """
    cooldown, budget, budget_window = limits.cooldown, limits.budget, limits.budget_window
    same = [entry for entry in history if entry.get("alert") == alert]
    if cooldown > 0 and same:
        last = same[-1]
        left = _seconds_left(cooldown, _entry_time(last), now)
        if left:
            return {"outcome": "cooldown", "remaining": left, "last": last, "count": len(same)}
    if budget > 0 and budget_window > 0:
        recent = [
            entry for entry in history if (now - _entry_time(entry)).total_seconds() < budget_window
        ]
        if len(recent) >= budget:
            # The object is free again once enough of them have left the window.
            freeing = recent[len(recent) - budget]
            left = _seconds_left(budget_window, _entry_time(freeing), now)
            if left:
                return {
                    "outcome": "budget",
                    "remaining": left,
                    "last": recent[-1],
                    "count": len(recent),
                }
    return None


def hold_message(hold, alert, obj, budget_window=0):
    """One sentence saying why an object is held back (``hold`` from ``hold_back``)."""
    text = target_text(obj["kind"], obj["namespace"], obj["name"])
    last = hold["last"]
    by = "run %s at %s (%s)" % (
        last.get("run"),
        last.get("at"),
        ", ".join(last.get("actions") or []),
    )
    if hold["outcome"] == "cooldown":
        return "%s already mitigated %s by %s; cooldown for %s s more" % (
            alert,
            text,
            by,
            hold["remaining"],
        )
    return "%s was mitigated %d times within %s s, last by %s; budget exhausted for %s s more" % (
        text,
        hold["count"],
        budget_window,
        by,
        hold["remaining"],
    )


def with_mitigation(history, entry, now, keep_seconds, limit=HISTORY_LIMIT):
    """``history`` with ``entry`` appended, dropping what is older than ``keep_seconds``."""
    kept = [item for item in history if (now - _entry_time(item)).total_seconds() < keep_seconds]
    kept.append(entry)
    return kept[-max(limit, 1) :]


_REASON = re.compile(r"[^A-Za-z0-9]")


def event_body(record, holder, alert, now):
    """An events.k8s.io/v1 Event about one change, reported by controller ``sre.runbooks``."""
    obj = record["object"]
    reason = _REASON.sub("", record.get("reason") or "Remediated")[:128] or "Remediated"
    note = "%s: %s" % (alert, record["action"])
    if record.get("before") is not None or record.get("after") is not None:
        note += ": %s -> %s" % (record.get("before"), record.get("after"))
    note += " (run %s)" % holder
    suffix = hashlib.sha256(("%s/%s/%s" % (holder, record["action"], now)).encode()).hexdigest()
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {
            "name": "%s.%s" % (obj["name"][:200], suffix[:16]),
            "namespace": obj["namespace"],
        },
        "eventTime": micro_time(now),
        "reportingController": REPORTING_CONTROLLER,
        "reportingInstance": holder[:128],
        "action": record["action"][:128],
        "reason": reason,
        "type": "Normal",
        "note": note[:1024],
        "regarding": {
            "apiVersion": API_VERSIONS.get(obj["kind"], "v1"),
            "kind": obj["kind"],
            "namespace": obj["namespace"],
            "name": obj["name"],
        },
    }


class Guard:
    """Lease and cooldown of one target through a ``K8sClient``."""

    def __init__(self, client, kind, namespace, name, holder):
        self.client = client
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.holder = holder
        self.lease = lease_name(kind, name)
        self.lease_path = "%s/namespaces/%s/leases" % (LEASE_PREFIX, namespace)

    def _lease_target(self):
        return target_text("Lease", self.namespace, self.lease)

    def read_lease(self):
        return self.client.request(
            "GET",
            "%s/%s" % (self.lease_path, self.lease),
            "read",
            self._lease_target(),
            allow_404=True,
        )

    def read_target(self):
        found = self.client.get(self.kind, self.namespace, self.name, allow_404=True)
        if found is None:
            raise K8sError(
                "read",
                target_text(self.kind, self.namespace, self.name),
                404,
                "NotFound",
                "the remediation target does not exist",
            )
        return found

    def _write_lease(self, existing, spec):
        """Create or update (with its resourceVersion) the Lease; False when another run won."""
        body = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.lease, "namespace": self.namespace},
            "spec": spec,
        }
        if existing is None:
            method, path = "POST", self.lease_path
            body["metadata"]["labels"] = {"app.kubernetes.io/managed-by": "sre.runbooks"}
        else:
            method, path = "PUT", "%s/%s" % (self.lease_path, self.lease)
            body["metadata"] = dict(existing["metadata"])
        try:
            self.client.request(method, path, "acquire", self._lease_target(), body=body)
        except K8sError as error:
            # Another run created or updated the Lease since we read it.
            if error.status == 409:
                return False
            raise
        return True

    def acquire(self, duration, check_mode, now=None):
        """(outcome, holder, lease) with outcome ``acquired`` or ``locked``."""
        now = now or utcnow()
        existing = self.read_lease()
        holder = lease_holder(existing, now)
        if holder is not None and holder != self.holder:
            return "locked", holder, existing
        if check_mode:
            return "acquired", self.holder, existing
        previous = (existing or {}).get("spec")
        if not self._write_lease(existing, lease_spec(self.holder, duration, now, previous)):
            current = self.read_lease()
            return "locked", lease_holder(current, utcnow()), current
        return "acquired", self.holder, self.read_lease()

    def release(self):
        """Frees the Lease when this run holds it; True when it did."""
        existing = self.read_lease()
        if existing is None or (existing.get("spec") or {}).get("holderIdentity") != self.holder:
            return False
        spec = dict(existing["spec"])
        spec["holderIdentity"] = None
        spec["renewTime"] = micro_time(utcnow())
        return self._write_lease(existing, spec)

    def record(self, entry, keep_seconds):
        """Adds ``entry`` to the object's mitigation history (a metadata-only merge patch)."""
        history = with_mitigation(
            mitigation_history(self.read_target()), entry, parse_time(entry["at"]), keep_seconds
        )
        patch = {
            "metadata": {
                "annotations": {MITIGATIONS_ANNOTATION: json.dumps(history, sort_keys=True)}
            }
        }
        self.client.patch(self.kind, self.namespace, self.name, patch, patch_type="merge")

    def emit(self, event):
        namespace = event["metadata"]["namespace"]
        answer = self.client.request(
            "POST",
            "%s/namespaces/%s/events" % (EVENTS_PREFIX, namespace),
            "record an event on",
            target_text(event["regarding"]["kind"], namespace, event["regarding"]["name"]),
            body=event,
        )
        return (answer or {}).get("metadata", {}).get("name")


def object_ref(obj):
    """``{kind, namespace, name}`` of an object reference (extra keys dropped)."""
    return {"kind": obj["kind"], "namespace": obj["namespace"], "name": obj["name"]}


def same_object(one, other):
    return object_ref(one) == object_ref(other)


def distinct_objects(objects, exclude=()):
    """The object references in order, each once, leaving out those in ``exclude``."""
    seen = {(o["kind"], o["namespace"], o["name"]) for o in exclude}
    found = []
    for obj in objects:
        key = (obj["kind"], obj["namespace"], obj["name"])
        if key not in seen:
            seen.add(key)
            found.append(object_ref(obj))
    return found


class Limits:
    """How long a run holds Leases and how often an object may be mitigated."""

    def __init__(self, lease_duration, cooldown, budget=0, budget_window=0):
        self.lease_duration = lease_duration
        self.cooldown = cooldown
        self.budget = budget
        self.budget_window = budget_window

    @property
    def keep_seconds(self):
        """How long a mitigation stays in an object's history."""
        return max(self.cooldown, self.budget_window, 1)


def take(client, holder, alert, objects, limits, *, check_mode):
    """Takes each object's Lease and checks its cooldown and budget, in order.

    Returns ``(taken, held)``: the objects this run now holds (in check mode: would hold), and
    one dict per object it must leave alone (``object``, ``outcome`` locked, cooldown or budget,
    ``message``, ``holder`` or ``remaining``). A held object's Lease is given back at once.
    """
    taken, held = [], []
    for obj in objects:
        guard = Guard(client, obj["kind"], obj["namespace"], obj["name"], holder)
        outcome, other, _lease = guard.acquire(limits.lease_duration, check_mode)
        if outcome == "locked":
            message = "run %s is remediating %s" % (
                other,
                target_text(obj["kind"], obj["namespace"], obj["name"]),
            )
            held.append(
                dict(object=object_ref(obj), outcome="locked", holder=other, message=message)
            )
        else:
            # Read while holding the Lease: a run that finished just before us has written its
            # history by the time it freed the Lease.
            history = mitigation_history(guard.read_target())
            hold = hold_back(history, alert, utcnow(), limits)
            if hold is None:
                taken.append(object_ref(obj))
                continue
            if not check_mode:
                guard.release()
            held.append(
                dict(
                    object=object_ref(obj),
                    outcome=hold["outcome"],
                    remaining=hold["remaining"],
                    last=hold["last"],
                    message=hold_message(hold, alert, obj, limits.budget_window),
                )
            )
    return taken, held


def give_back(client, holder, alert, objects, records, *, mitigated_target, limits, now):
    """Records each changed object's mitigation in its history and frees every Lease held.

    ``objects`` starts with the run's target, whose history gets the run's mitigation when
    ``mitigated_target``; every other object gets the actions done to it. Returns the objects
    whose Leases were freed.
    """
    freed = []
    for index, obj in enumerate(objects):
        guard = Guard(client, obj["kind"], obj["namespace"], obj["name"], holder)
        actions = [record["action"] for record in records if same_object(record["object"], obj)]
        if index == 0 and mitigated_target:
            actions = actions or [record["action"] for record in records]
        if actions:
            guard.record(
                {"at": micro_time(now), "alert": alert, "run": holder, "actions": actions},
                limits.keep_seconds,
            )
        if guard.release():
            freed.append(object_ref(obj))
    return freed


def append_audit(path, lines):
    """Appends JSON lines to the audit log, creating it (mode 0600) and its directory."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=True, default=str) + "\n")
