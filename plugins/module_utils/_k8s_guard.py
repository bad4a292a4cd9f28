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

COOLDOWN_ANNOTATION = "sre.runbooks/last-mitigation"
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


def last_mitigation(target):
    """The cooldown stamp of a target object, as a dict, or None."""
    annotations = ((target or {}).get("metadata") or {}).get("annotations") or {}
    raw = annotations.get(COOLDOWN_ANNOTATION)
    if not raw:
        return None
    try:
        stamp = json.loads(raw)
    except ValueError:
        return None
    return stamp if isinstance(stamp, dict) else None


def cooldown_remaining(stamp, cooldown, now):
    """Seconds left of the cooldown that ``stamp`` started; 0 when over or absent."""
    if not stamp or cooldown <= 0:
        return 0
    at = parse_time(stamp.get("at"))
    if at is None:
        return 0
    left = cooldown - (now - at).total_seconds()
    return int(left) + 1 if left > 0 else 0


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

    def stamp(self, stamp):
        """Writes the cooldown annotation on the target (a metadata-only merge patch)."""
        patch = {
            "metadata": {"annotations": {COOLDOWN_ANNOTATION: json.dumps(stamp, sort_keys=True)}}
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


def append_audit(path, lines):
    """Appends JSON lines to the audit log, creating it (mode 0600) and its directory."""
    directory = os.path.dirname(path)
    if directory and not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a") as handle:
        for line in lines:
            handle.write(json.dumps(line, sort_keys=True, default=str) + "\n")
