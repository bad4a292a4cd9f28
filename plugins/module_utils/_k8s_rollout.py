# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Rollouts of Deployments, StatefulSets and DaemonSets as ``kubectl rollout`` sees them.

Pure functions (status verdicts, revision lists, undo plans) plus the runs of the
``k8s_rollout`` module. Revisions come from ReplicaSets for Deployments and from
ControllerRevisions for StatefulSets and DaemonSets, as kubectl reads them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import time

from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    label_selector,
    target_text,
)

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE_ANNOTATION = "kubernetes.io/change-cause"
RESTARTED_AT_ANNOTATION = "kubectl.kubernetes.io/restartedAt"
# Annotations of a ReplicaSet that kubectl does not copy back into a Deployment on undo.
UNDO_SKIPPED_ANNOTATIONS = frozenset(
    [
        "kubectl.kubernetes.io/last-applied-configuration",
        REVISION_ANNOTATION,
        "deployment.kubernetes.io/revision-history",
        "deployment.kubernetes.io/desired-replicas",
        "deployment.kubernetes.io/max-replicas",
        "deprecated.deployment.rollback.to",
    ]
)


def utcnow_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    if not text:
        return None
    return datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc
    )


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def owned_by(item, owner):
    uid = owner["metadata"].get("uid")
    return any(ref.get("uid") == uid for ref in item["metadata"].get("ownerReferences") or [])


# ---------------------------------------------------------------------------------------------
# Status
# ---------------------------------------------------------------------------------------------


def _condition(obj, condition_type):
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == condition_type:
            return condition
    return None


def _deployment_status(obj, name):
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    progressing = _condition(obj, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        return False, 'deployment "%s" exceeded its progress deadline' % name
    desired = spec.get("replicas", 1)
    updated = status.get("updatedReplicas") or 0
    replicas = status.get("replicas") or 0
    available = status.get("availableReplicas") or 0
    waiting = 'Waiting for deployment "%s" rollout to finish: ' % name
    if updated < desired:
        return False, "%s%d out of %d new replicas have been updated..." % (
            waiting,
            updated,
            desired,
        )
    if replicas > updated:
        return False, "%s%d old replicas are pending termination..." % (
            waiting,
            replicas - updated,
        )
    if available < updated:
        return False, "%s%d of %d updated replicas are available..." % (
            waiting,
            available,
            updated,
        )
    return True, 'deployment "%s" successfully rolled out' % name


def _daemonset_status(obj, name):
    status = obj.get("status") or {}
    desired = status.get("desiredNumberScheduled") or 0
    updated = status.get("updatedNumberScheduled") or 0
    available = status.get("numberAvailable") or 0
    waiting = 'Waiting for daemon set "%s" rollout to finish: ' % name
    if updated < desired:
        return False, "%s%d out of %d new pods have been updated..." % (waiting, updated, desired)
    if available < desired:
        return False, "%s%d of %d updated pods are available..." % (waiting, available, desired)
    return True, 'daemon set "%s" successfully rolled out' % name


def _statefulset_status(obj):
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    desired = spec.get("replicas", 1)
    ready = status.get("readyReplicas") or 0
    if ready < desired:
        return False, "Waiting for %d pods to be ready..." % (desired - ready)
    partition = ((spec.get("updateStrategy") or {}).get("rollingUpdate") or {}).get("partition")
    if partition:
        updated = status.get("updatedReplicas") or 0
        if updated < desired - partition:
            return False, (
                "Waiting for partitioned roll out to finish: %d out of %d new pods have been "
                "updated..." % (updated, desired - partition)
            )
        return True, "partitioned roll out complete: %d new pods have been updated..." % updated
    if status.get("updateRevision") != status.get("currentRevision"):
        return False, (
            "waiting for statefulset rolling update to complete %d pods at revision %s..."
            % (status.get("updatedReplicas") or 0, status.get("updateRevision"))
        )
    return True, (
        "statefulset rolling update complete %d pods at revision %s..."
        % (status.get("currentReplicas") or 0, status.get("currentRevision"))
    )


def rollout_status(obj):
    """``(done, message)`` for a workload, with kubectl rollout status' verdicts and texts."""
    kind = obj["kind"]
    generation = obj["metadata"].get("generation") or 0
    if kind == "Deployment":
        done, message = _deployment_status(obj, obj["metadata"]["name"])
        if ((obj.get("status") or {}).get("observedGeneration") or 0) < generation:
            done, message = False, "Waiting for deployment spec update to be observed..."
        if not done and (obj.get("spec") or {}).get("paused"):
            message += " (the rollout is paused)"
        return done, message
    if ((obj.get("status") or {}).get("observedGeneration") or 0) < generation:
        return False, "Waiting for %s spec update to be observed..." % kind.lower()
    if kind == "DaemonSet":
        return _daemonset_status(obj, obj["metadata"]["name"])
    return _statefulset_status(obj)


def status_view(obj, newest=None):
    """What ``action=status`` reports about a workload (``newest``: its newest ReplicaSet)."""
    done, message = rollout_status(obj)
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if obj["kind"] == "DaemonSet":
        counts = dict(
            desired=status.get("desiredNumberScheduled") or 0,
            updated=status.get("updatedNumberScheduled") or 0,
            ready=status.get("numberReady") or 0,
            available=status.get("numberAvailable") or 0,
        )
    else:
        counts = dict(
            desired=spec.get("replicas", 1),
            updated=status.get("updatedReplicas") or 0,
            ready=status.get("readyReplicas") or 0,
            available=status.get("availableReplicas") or 0,
        )
    view = dict(
        done=done,
        message=message,
        paused=bool(spec.get("paused")),
        generation=obj["metadata"].get("generation"),
        observed_generation=status.get("observedGeneration"),
        conditions=status.get("conditions") or [],
        **counts,
    )
    if newest is not None:
        view["newest_replica_set"] = dict(
            name=newest["metadata"]["name"],
            revision=_int((newest["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)),
            replicas=(newest.get("status") or {}).get("replicas") or 0,
            ready=(newest.get("status") or {}).get("readyReplicas") or 0,
            conditions=(newest.get("status") or {}).get("conditions") or [],
        )
    return view


# ---------------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------------


def _images(template):
    spec = (template or {}).get("spec") or {}
    containers = (spec.get("initContainers") or []) + (spec.get("containers") or [])
    return [c.get("image") for c in containers]


def revisions(obj, owned):
    """The revisions of a workload, oldest first, from its ReplicaSets or ControllerRevisions.

    Each: ``revision``, ``name`` (of the ReplicaSet or ControllerRevision), ``change_cause``,
    ``images``, ``created``, ``template`` (without pod-template-hash for ReplicaSets).
    """
    found = []
    for item in owned:
        annotations = item["metadata"].get("annotations") or {}
        if obj["kind"] == "Deployment":
            number = _int(annotations.get(REVISION_ANNOTATION))
            template = copy.deepcopy((item.get("spec") or {}).get("template") or {})
            labels = (template.get("metadata") or {}).get("labels") or {}
            labels.pop("pod-template-hash", None)
        else:
            number = _int(item.get("revision"))
            template = copy.deepcopy(((item.get("data") or {}).get("spec") or {}).get("template"))
            template = template or {}
            template.pop("$patch", None)
        if number is None:
            continue
        found.append(
            dict(
                revision=number,
                name=item["metadata"]["name"],
                change_cause=annotations.get(CHANGE_CAUSE_ANNOTATION),
                images=_images(template),
                created=item["metadata"].get("creationTimestamp"),
                template=template,
            )
        )
    return sorted(found, key=lambda r: r["revision"])


def current_revision(obj, history):
    """The revision the workload runs now (Deployment: its annotation; else the newest)."""
    if obj["kind"] == "Deployment":
        number = _int((obj["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION))
        if number is not None:
            return number
    if obj["kind"] == "StatefulSet":
        update = (obj.get("status") or {}).get("updateRevision")
        for revision in history:
            if revision["name"] == update:
                return revision["revision"]
    return history[-1]["revision"] if history else None


def history_view(history, now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    view = []
    for revision in history:
        created = parse_time(revision["created"])
        view.append(
            dict(
                revision=revision["revision"],
                name=revision["name"],
                change_cause=revision["change_cause"],
                images=revision["images"],
                created=revision["created"],
                age_seconds=int((now - created).total_seconds()) if created else None,
            )
        )
    return view


# ---------------------------------------------------------------------------------------------
# Plans for the changing actions
# ---------------------------------------------------------------------------------------------


def _without_hash(template):
    template = copy.deepcopy(template or {})
    ((template.get("metadata") or {}).get("labels") or {}).pop("pod-template-hash", None)
    return template


def plan_undo(obj, history, to_revision=0):
    """``(target_revision, patch, patch_type)``; patch None when already at the target.

    ``to_revision`` 0 means the previous revision, as for kubectl. Raises ValueError with
    kubectl's reasons when there is nothing to undo to.
    """
    if obj["kind"] == "Deployment" and (obj.get("spec") or {}).get("paused"):
        raise ValueError(
            "you cannot rollback a paused deployment; resume it first with action=resume and "
            "try again"
        )
    by_number = {r["revision"]: r for r in history}
    if to_revision:
        if to_revision not in by_number:
            raise ValueError("unable to find specified revision %d in history" % to_revision)
        target = by_number[to_revision]
    else:
        if len(history) < 2:
            raise ValueError("no rollout history found")
        current = current_revision(obj, history)
        older = [r for r in history if r["revision"] != current]
        if not older:
            raise ValueError("no rollout history found")
        target = older[-1]
    current_template = _without_hash((obj.get("spec") or {}).get("template"))
    if current_template == _without_hash(target["template"]):
        return target["revision"], None, None
    if obj["kind"] == "Deployment":
        annotations = dict(obj["metadata"].get("annotations") or {})
        annotations.update(
            (key, value)
            for key, value in (target.get("annotations") or {}).items()
            if key not in UNDO_SKIPPED_ANNOTATIONS
        )
        patch = [
            {"op": "replace", "path": "/spec/template", "value": target["template"]},
            {"op": "replace", "path": "/metadata/annotations", "value": annotations},
        ]
        return target["revision"], patch, "json"
    template = copy.deepcopy(target["template"])
    template["$patch"] = "replace"
    return target["revision"], {"spec": {"template": template}}, "strategic"


def restart_patch(now_text):
    return {
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT_ANNOTATION: now_text}}}}
    }


def template_diff_view(obj):
    spec = obj.get("spec") or {}
    return dict(template=spec.get("template"), paused=bool(spec.get("paused")))


# ---------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------


def owned_history_items(client, obj):
    """The ReplicaSets (Deployment) or ControllerRevisions that belong to ``obj``."""
    kind = "ReplicaSet" if obj["kind"] == "Deployment" else "ControllerRevision"
    selector = label_selector((obj.get("spec") or {}).get("selector") or {})
    items = client.list(
        kind, obj["metadata"]["namespace"], selector=selector, action="list revisions of"
    )
    return [item for item in items if owned_by(item, obj)]


def read_history(client, obj):
    items = owned_history_items(client, obj)
    history = revisions(obj, items)
    if obj["kind"] == "Deployment":
        by_name = {item["metadata"]["name"]: item for item in items}
        for revision in history:
            revision["annotations"] = by_name[revision["name"]]["metadata"].get("annotations") or {}
    return history, items


def newest_replica_set(items):
    candidates = [
        (_int((i["metadata"].get("annotations") or {}).get(REVISION_ANNOTATION)) or 0, i)
        for i in items
    ]
    return max(candidates, key=lambda c: c[0])[1] if candidates else None


def wait_for_rollout(
    client, kind, namespace, name, timeout, *, sleep=time.sleep, clock=time.monotonic, interval=1.0
):
    """Poll until the rollout is done; ``K8sError`` with the last message on timeout."""
    deadline = clock() + timeout
    while True:
        obj = client.get(kind, namespace, name, action="read")
        done, message = rollout_status(obj)
        if done:
            return obj
        if clock() >= deadline:
            raise K8sError(
                "wait for the rollout of",
                target_text(kind, namespace, name),
                message="timed out after %ss: %s" % (timeout, message),
            )
        sleep(min(interval, max(0.05, deadline - clock())))


def _wait_observed(client, kind, namespace, name, timeout=10.0):
    """The object once its controller has seen the latest spec (or as it is after timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        obj = client.get(kind, namespace, name)
        generation = obj["metadata"].get("generation") or 0
        if (obj.get("status") or {}).get("observedGeneration", 0) >= generation:
            return obj
        if time.monotonic() >= deadline:
            return obj
        time.sleep(0.1)


def _read_result(client, obj, params):
    """``status`` and ``history``: nothing changes."""
    kind, namespace, name = params["kind"], params["namespace"], params["name"]
    if params["action"] == "status" and params.get("wait"):
        obj = wait_for_rollout(client, kind, namespace, name, params["wait_timeout"])
    history, items = read_history(client, obj)
    revision = current_revision(obj, history)
    result = dict(changed=False, revision_before=revision, revision_after=revision)
    if params["action"] == "status":
        newest = newest_replica_set(items) if kind == "Deployment" else None
        result["rollout"] = status_view(obj, newest)
    else:
        result["history"] = history_view(history)
    return result


def plan_action(obj, history, params, now_text):
    """``(patch, patch_type, notes)`` for a changing action; patch None when nothing to do.

    ``notes`` holds ``msg`` and ``target_revision`` for the result. Raises ValueError when the
    action is refused (as kubectl refuses it).
    """
    action = params["action"]
    spec = obj.get("spec") or {}
    if action in ("pause", "resume"):
        if obj["kind"] != "Deployment":
            raise ValueError("%s is only supported for Deployments (as in kubectl)" % action)
        want = action == "pause"
        if bool(spec.get("paused")) == want:
            return None, None, dict(msg="already %s" % ("paused" if want else "resumed"))
        return {"spec": {"paused": want}}, "strategic", {}
    if action == "restart":
        if obj["kind"] == "Deployment" and spec.get("paused"):
            raise ValueError("can't restart a paused deployment (resume it first)")
        return restart_patch(now_text), "strategic", {}
    target, patch, patch_type = plan_undo(obj, history, params.get("to_revision") or 0)
    notes = dict(target_revision=target)
    if patch is None:
        notes["msg"] = "skipped rollback (current template already matches revision %d)" % target
    return patch, patch_type, notes


def run_rollout(client, params, check_mode=False):
    """The whole ``k8s_rollout`` run; returns ``(result, diff)`` (diff None for reads)."""
    kind, namespace, name = params["kind"], params["namespace"], params["name"]
    action = params["action"]
    obj = client.get(kind, namespace, name, action="read")
    if action in ("status", "history"):
        return _read_result(client, obj, params), None
    history, _items = read_history(client, obj)
    before_revision = current_revision(obj, history)
    verb = "undo the rollout of" if action == "undo" else action
    try:
        patch, patch_type, notes = plan_action(obj, history, params, utcnow_text())
    except ValueError as error:
        raise K8sError(verb, target_text(kind, namespace, name), message=str(error)) from None
    result = dict(
        changed=patch is not None,
        revision_before=before_revision,
        revision_after=before_revision,
        **notes,
    )
    after = obj
    if patch is not None:
        after = client.patch(
            kind, namespace, name, patch, patch_type=patch_type, dry_run=check_mode, action=verb
        )
        if action in ("restart", "undo"):
            # The controller gives the new template the next revision number.
            result["revision_after"] = (history[-1]["revision"] + 1) if history else 1
            if not check_mode:
                try:
                    after = _wait_observed(client, kind, namespace, name)
                    history_after, _items = read_history(client, after)
                except K8sError as error:
                    # The patch was applied: a failed read-back must still report the change.
                    error.result = result
                    raise
                result["revision_after"] = current_revision(after, history_after)
    return result, dict(before=template_diff_view(obj), after=template_diff_view(after))
