# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One-call diagnosis of a workload: pods, container states, events, revisions, metrics, logs.

Requests run concurrently in threads. Pieces the cluster cannot give (no metrics API, logs not
served) are listed in ``missing`` instead of failing the run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_rollout import (
    current_revision,
    history_view,
    owned_history_items,
    revisions,
    rollout_status,
)
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    label_selector,
    resource_path,
    target_text,
)

MAX_WORKERS = 8
DEFAULT_PATTERNS = ("ERROR", "WARN", "OOM")


def _state_view(state):
    """A container state ({running|waiting|terminated: {...}}) flattened."""
    if not state:
        return None
    for name in ("running", "waiting", "terminated"):
        if name in state:
            detail = state[name] or {}
            view = dict(state=name)
            for key, out in (
                ("reason", "reason"),
                ("message", "message"),
                ("exitCode", "exit_code"),
                ("signal", "signal"),
                ("startedAt", "started_at"),
                ("finishedAt", "finished_at"),
            ):
                if detail.get(key) is not None:
                    view[out] = detail[key]
            return view
    return None


def container_views(pod):
    """Each container of a pod: readiness, restarts, current and last state, resources."""
    specs = {c["name"]: c for c in (pod.get("spec") or {}).get("containers") or []}
    statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
    views = []
    for name, spec in specs.items():
        status = statuses.get(name) or {}
        state = _state_view(status.get("state"))
        last = _state_view(status.get("lastState"))
        views.append(
            dict(
                name=name,
                image=spec.get("image"),
                ready=bool(status.get("ready")),
                restart_count=status.get("restartCount") or 0,
                state=state,
                last_state=last,
                waiting_reason=(state or {}).get("reason")
                if (state or {}).get("state") == "waiting"
                else None,
                oom_killed=any((s or {}).get("reason") == "OOMKilled" for s in (state, last)),
                requests=(spec.get("resources") or {}).get("requests") or {},
                limits=(spec.get("resources") or {}).get("limits") or {},
            )
        )
    return views


def pod_view(pod):
    status = pod.get("status") or {}
    ready = any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in status.get("conditions") or []
    )
    containers = container_views(pod)
    return dict(
        name=pod["metadata"]["name"],
        phase=status.get("phase"),
        ready=ready,
        node=(pod.get("spec") or {}).get("nodeName"),
        pod_ip=status.get("podIP"),
        started=status.get("startTime"),
        restarts=sum(c["restart_count"] for c in containers),
        containers=containers,
    )


def _event_time(event):
    for key in ("lastTimestamp", "eventTime", "firstTimestamp"):
        if event.get(key):
            return event[key]
    return event["metadata"].get("creationTimestamp") or ""


def event_views(events, names):
    """Events about any of ``names`` (kind, name pairs), oldest first."""
    wanted = set(names)
    chosen = [
        e
        for e in events
        if (
            (e.get("involvedObject") or {}).get("kind"),
            (e.get("involvedObject") or {}).get("name"),
        )
        in wanted
    ]
    chosen.sort(key=_event_time)
    return [
        dict(
            time=_event_time(e),
            type=e.get("type"),
            reason=e.get("reason"),
            object="%s/%s" % (e["involvedObject"].get("kind"), e["involvedObject"].get("name")),
            message=e.get("message"),
            count=e.get("count") or 1,
        )
        for e in chosen
    ]


def summarize(pods):
    waiting = {}
    for pod in pods:
        for container in pod["containers"]:
            if container["waiting_reason"]:
                waiting[container["waiting_reason"]] = (
                    waiting.get(container["waiting_reason"], 0) + 1
                )
    return dict(
        pods=len(pods),
        ready=sum(1 for p in pods if p["ready"]),
        restarts=sum(p["restarts"] for p in pods),
        waiting_reasons=waiting,
        oom_killed=sorted({p["name"] for p in pods for c in p["containers"] if c["oom_killed"]}),
        crash_looping=sorted(
            {
                p["name"]
                for p in pods
                for c in p["containers"]
                if c["waiting_reason"] == "CrashLoopBackOff"
            }
        ),
        phases=sorted({p["phase"] for p in pods if p["phase"]}),
    )


def count_patterns(lines, patterns):
    compiled = [(p, re.compile(re.escape(p))) for p in patterns]
    counts = dict.fromkeys(patterns, 0)
    for line in lines:
        for pattern, regex in compiled:
            if regex.search(line):
                counts[pattern] += 1
    return counts


def metrics_view(items):
    view = {}
    for item in items:
        view[item["metadata"]["name"]] = {
            c["name"]: dict(
                cpu=(c.get("usage") or {}).get("cpu"),
                memory=(c.get("usage") or {}).get("memory"),
            )
            for c in item.get("containers") or []
        }
    return view


def _history_summary(obj, client, now):
    items = owned_history_items(client, obj)
    history = revisions(obj, items)
    view = history_view(history, now)
    newest = view[-1] if view else None
    return dict(
        current_revision=current_revision(obj, history),
        revisions=len(view),
        newest_revision=newest["revision"] if newest else None,
        newest_created=newest["created"] if newest else None,
        newest_age_seconds=newest["age_seconds"] if newest else None,
        newest_images=newest["images"] if newest else [],
        previous_images=view[-2]["images"] if len(view) > 1 else [],
        progressed_age_seconds=_progressed_age(obj, now),
    ), items


def _progressed_age(obj, now):
    """Seconds since a Deployment last progressed (its Progressing condition's lastUpdateTime).

    A rollout back to an older ReplicaSet (undo, or re-applying an old template) reuses that
    ReplicaSet, whose creation time is then old: this is when the current template last rolled.
    """
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Progressing" and condition.get("lastUpdateTime"):
            try:
                updated = datetime.datetime.strptime(
                    condition["lastUpdateTime"], "%Y-%m-%dT%H:%M:%SZ"
                ).replace(tzinfo=datetime.timezone.utc)
            except ValueError:
                return None
            return max(int((now - updated).total_seconds()), 0)
    return None


def _read_logs(client, namespace, pod, container, *, tail_lines, patterns):
    path = resource_path("Pod", namespace, pod, "log")
    target = "log of %s" % target_text("Pod", namespace, pod)
    response = client.request(
        "GET",
        path,
        "read",
        target,
        raw=True,
        allow_404=True,
        params={"container": container, "tailLines": tail_lines},
        accept="*/*",
    )
    if response is None:
        return None
    lines = response.data.decode("utf-8", "replace").splitlines()
    return dict(
        pod=pod,
        container=container,
        lines=len(lines),
        counts=count_patterns(lines, patterns),
        matches=[line for line in lines if any(p in line for p in patterns)][-20:],
    )


def _workload_view(workload):
    done, message = rollout_status(workload)
    return dict(
        kind=workload["kind"],
        name=workload["metadata"]["name"],
        selector=label_selector((workload.get("spec") or {}).get("selector") or {}),
        rollout_done=done,
        rollout_message=message,
        generation=workload["metadata"].get("generation"),
        observed_generation=(workload.get("status") or {}).get("observedGeneration"),
        paused=bool((workload.get("spec") or {}).get("paused")),
        # A DaemonSet has no spec.replicas: its desired count is status.desiredNumberScheduled.
        replicas=(workload.get("spec") or {}).get(
            "replicas", (workload.get("status") or {}).get("desiredNumberScheduled")
        ),
        annotations=(workload.get("metadata") or {}).get("annotations") or {},
    )


def _metrics_result(future, missing):
    """PodMetrics by pod, or None with the reason added to ``missing``."""
    try:
        answer = future.result()
    except K8sError as error:
        missing.append("metrics: %s" % error)
        return None
    if answer is None:
        missing.append("metrics: the metrics.k8s.io API is not served (404)")
        return None
    return metrics_view(answer.get("items") or [])


def _logs_result(futures, patterns, missing):
    """Log counts per container and in total; unavailable logs are added to ``missing``."""
    views = []
    totals = dict.fromkeys(patterns, 0)
    unavailable = []
    for future in futures:
        try:
            view = future.result()
        except K8sError as error:
            unavailable.append(str(error))
            continue
        if view is None:
            unavailable.append("pods/log answered 404 (not served)")
            continue
        views.append(view)
        for pattern, count in view["counts"].items():
            totals[pattern] = totals.get(pattern, 0) + count
    if unavailable:
        missing.append(
            "logs: unavailable for %d container(s): %s" % (len(unavailable), unavailable[0])
        )
    return dict(containers=views, counts=totals)


def _submit_logs(pool, client, namespace, pods, logs):
    return [
        pool.submit(
            _read_logs,
            client,
            namespace,
            pod["metadata"]["name"],
            container["name"],
            tail_lines=logs.get("tail_lines") or 200,
            patterns=logs.get("patterns") or list(DEFAULT_PATTERNS),
        )
        for pod in pods
        for container in (pod.get("spec") or {}).get("containers") or []
    ]


def diagnose(client, params, now=None):
    """The ``k8s_workload_diagnose`` result (never changed)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    namespace = params["namespace"]
    missing = []
    result = dict(changed=False, namespace=namespace, missing=missing)
    workload = None
    selector = params.get("label_selector")
    if params.get("name"):
        workload = client.get(params["kind"], namespace, params["name"])
        result["workload"] = _workload_view(workload)
        selector = result["workload"]["selector"]
    logs = params.get("logs")
    with ThreadPoolExecutor(max_workers=MAX_WORKERS) as pool:
        pods_future = pool.submit(client.list, "Pod", namespace, selector)
        events_future = pool.submit(client.list, "Event", namespace)
        history_future = pool.submit(_history_summary, workload, client, now) if workload else None
        metrics_future = None
        if params.get("metrics"):
            metrics_future = pool.submit(
                client.request,
                "GET",
                resource_path("PodMetrics", namespace),
                "read",
                "pod metrics in %s" % namespace,
                allow_404=True,
                params={"labelSelector": selector or None},
            )
        pods = pods_future.result()
        log_futures = _submit_logs(pool, client, namespace, pods, logs) if logs else []
        result["pods"] = sorted((pod_view(p) for p in pods), key=lambda p: p["name"])
        result["summary"] = summarize(result["pods"])
        names = [("Pod", p["name"]) for p in result["pods"]]
        if workload:
            names.append((workload["kind"], workload["metadata"]["name"]))
            result["history"], items = history_future.result()
            item_kind = "ReplicaSet" if workload["kind"] == "Deployment" else "ControllerRevision"
            names.extend((item_kind, i["metadata"]["name"]) for i in items)
        result["events"] = event_views(events_future.result(), names)
        if metrics_future is not None:
            metrics = _metrics_result(metrics_future, missing)
            if metrics is not None:
                result["metrics"] = metrics
        if logs:
            patterns = logs.get("patterns") or list(DEFAULT_PATTERNS)
            result["logs"] = _logs_result(log_futures, patterns, missing)
    return result
