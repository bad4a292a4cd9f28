# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The remediation engine's phases, run in the controller by the remediation_* action plugins.

Each phase uses one Kubernetes client, one Prometheus and one Alertmanager client, and the same
module_utils code as the collection's modules; independent reads run concurrently. The run's
state is a plain dict passed from phase to phase (through the role's registered results).
"""

from __future__ import annotations

import datetime
import os
import random
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_guard as guard
from ansible_collections.sre.runbooks.plugins.module_utils._http import APIClient, APIError
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_container import (
    run_container_patch,
    same_quantity,
)
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_diagnose import diagnose
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_exec import (
    command_specs,
    run_commands,
)
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_proxy import run_request
from ansible_collections.sre.runbooks.plugins.module_utils._k8s_rollout import (
    rollout_status,
    run_rollout,
    wait_for_rollout,
)
from ansible_collections.sre.runbooks.plugins.module_utils.alertmanager import (
    AlertmanagerClient,
    ensure_silence_absent,
    ensure_silence_present,
)
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    RESOURCES,
    K8sError,
    client_from_options,
    target_text,
)
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusClient,
    single_value,
)
from ansible_collections.sre.runbooks.plugins.plugin_utils import _decide as decide

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


class EngineError(Exception):
    """A phase could not do its work; the message says what and where."""


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def add_event(state, phase, event):
    state["timeline"].append({"at": now_text(), "phase": phase, "event": event})


# Connections -----------------------------------------------------------------------------------


class Connections:
    """One client per backend for the whole task."""

    def __init__(self, k8s_options, prometheus_options, alertmanager_options):
        self._k8s_options = k8s_options
        self._prometheus_options = prometheus_options
        self._alertmanager_options = alertmanager_options
        self._k8s = self._prometheus = self._alertmanager = None

    @property
    def k8s(self):
        if self._k8s is None:
            self._k8s = client_from_options(self._k8s_options)
        return self._k8s

    @property
    def prometheus(self):
        if self._prometheus is None:
            self._prometheus = PrometheusClient.from_options(self._prometheus_options)
        return self._prometheus

    @property
    def alertmanager(self):
        if self._alertmanager is None:
            self._alertmanager = AlertmanagerClient.from_options(self._alertmanager_options)
        return self._alertmanager


def limits(settings):
    return guard.Limits(
        int(settings["lease_seconds"]),
        int(settings["cooldown_seconds"]),
        int(settings["budget"]),
        int(settings["budget_seconds"]),
    )


# State -----------------------------------------------------------------------------------------


def new_state(settings, entry):
    run_id = settings.get("run_id") or "%s-%s-%04x" % (
        datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
        settings["role"].replace("_", "-"),
        random.randrange(65536),  # noqa: S311 (a name, not a secret)
    )
    base = settings.get("report_dir") or os.path.join(
        os.path.expanduser("~"), ".local", "state", "sre-runbooks", "runs", run_id
    )
    target = dict(settings["target"])
    state = {
        "run_id": run_id,
        "started_at": now_text(),
        "started": time.time(),
        "alert": settings["alert"],
        "system": settings["system"],
        "role": settings["role"],
        "cluster": settings["host"],
        "entry": entry,
        "target": target,
        "outcome": None,
        "message": "",
        "acquired": False,
        "lease_objects": [],
        "held": [],
        "findings": {},
        "investigation": [],
        "decisions": [],
        "planned": [],
        "report_dir": os.path.join(base, settings["host"]),
        "timeline": [],
    }
    add_event(state, "start", "run started")
    return state


def stop(state, outcome, message):
    state["outcome"] = outcome
    state["message"] = message
    return state


# Assess ----------------------------------------------------------------------------------------


def resolve_target(client, target):
    """A Pod target becomes the workload that controls it, read from ownerReferences."""
    if target["kind"] != "Pod":
        return dict(target)
    pod = client.get("Pod", target["namespace"], target["name"], allow_404=True)
    if pod is None:
        raise EngineError(
            "the alert's pod %s/%s no longer exists; its owner cannot be told"
            % (target["namespace"], target["name"])
        )
    owner = _controller(pod)
    if owner and owner["kind"] == "ReplicaSet":
        replica_set = client.get("ReplicaSet", target["namespace"], owner["name"], allow_404=True)
        owner = _controller(replica_set or {}) or owner
    if not owner or owner["kind"] not in WORKLOAD_KINDS:
        raise EngineError(
            "pod %s/%s is not controlled by a Deployment, StatefulSet or DaemonSet (%s)"
            % (target["namespace"], target["name"], owner["kind"] if owner else "no owner")
        )
    return {
        "kind": owner["kind"],
        "namespace": target["namespace"],
        "name": owner["name"],
        "pod": target["name"],
    }


def _controller(obj):
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return {"kind": ref.get("kind"), "name": ref.get("name")}
    return None


def query_alert(conn, settings):
    """The alert's ALERTS series and every role query, in one concurrent batch."""
    queries = dict(settings["queries"])
    queries["firing"] = settings["firing_query"]
    if settings.get("active_since_query"):
        queries["active_since"] = settings["active_since_query"]
    answers = conn.prometheus.run_queries(queries)
    firing = answers.pop("firing")["results"]
    since = answers.pop("active_since", None)
    return (
        firing,
        single_value(since["results"]) if since else None,
        {
            "metrics": {name: single_value(a["results"]) for name, a in answers.items()},
            "series": {name: a["results"] for name, a in answers.items()},
        },
    )


def _probe(conn, probe):
    kind = probe["type"]
    if kind == "http":
        return run_request(
            conn.k8s,
            {
                "kind": probe.get("kind") or "Service",
                "name": probe["target"],
                "namespace": probe["namespace"],
                "port": probe.get("port"),
                "scheme": probe.get("scheme") or "http",
                "path": probe["path"],
                "method": probe.get("method") or "GET",
                "body": probe.get("body"),
                "changes": False,
                "status_code": probe.get("status_code") or [200],
                "timeout": 30,
            },
        )
    if kind == "objects":
        if probe["kind"] not in RESOURCES:
            raise EngineError(
                "probe %s: kind %s is not one the collection reads (%s)"
                % (probe.get("name"), probe["kind"], ", ".join(sorted(RESOURCES)))
            )
        if probe.get("object_name"):
            found = conn.k8s.get(
                probe["kind"], probe.get("namespace"), probe["object_name"], allow_404=True
            )
            return {"resources": [found] if found else []}
        selector = probe.get("label_selectors")
        if isinstance(selector, list):
            selector = ",".join(selector)
        return {"resources": conn.k8s.list(probe["kind"], probe.get("namespace"), selector or None)}
    raise EngineError("probe %s: unknown type %r" % (probe.get("name"), kind))


def investigate_workload(conn, settings, target):
    """Diagnosis of the workload and the role's probes, all at once; returns (workload, probes)."""
    probes = settings["probes"]
    execs = [p for p in probes if p["type"] == "exec"]
    others = [p for p in probes if p["type"] != "exec"]
    params = {
        "kind": target["kind"],
        "name": target["name"],
        "namespace": target["namespace"],
        "label_selector": settings.get("label_selector"),
        "metrics": True,
        "logs": settings.get("diagnose_logs"),
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        workload_future = pool.submit(diagnose, conn.k8s, params)
        other_futures = [(p["name"], pool.submit(_probe, conn, p)) for p in others]
        workload = workload_future.result()
        answers = {}
        if execs:
            # A probe that names no pod runs in the target's first ready pod (else its first).
            pods = sorted(workload.get("pods") or [], key=lambda p: not p["ready"])
            default_pod = pods[0]["name"] if pods else None
            wanted = []
            for probe in execs:
                entry = {
                    k: probe[k]
                    for k in ("name", "namespace", "container", "command")
                    if probe.get(k)
                }
                entry["pod"] = probe.get("pod") or default_pod
                entry.setdefault("namespace", target["namespace"])
                if not entry["pod"]:
                    raise EngineError(
                        "probe %s: the target has no pod to run it in" % probe["name"]
                    )
                wanted.append(entry)
            for output in run_commands(conn.k8s, command_specs(wanted)):
                if output.get("error"):
                    raise EngineError(
                        "probe %s could not run: %s" % (output["name"], output["error"])
                    )
                answers[output["name"]] = output
        for name, future in other_futures:
            answers[name] = future.result()
    workload.pop("changed", None)
    for key in ("metrics", "logs"):
        workload.setdefault(key, None)
    workload.setdefault("workload", None)
    workload.setdefault(
        "history",
        dict.fromkeys(
            [
                "current_revision",
                "revisions",
                "newest_revision",
                "newest_created",
                "newest_age_seconds",
                "newest_images",
                "previous_images",
                "progressed_age_seconds",
            ]
        ),
    )
    workload["containers"] = [
        dict(container, pod=pod["name"])
        for pod in workload["pods"]
        for container in pod["containers"]
    ]
    return workload, {p["name"]: answers.get(p["name"]) for p in probes}


def assess(conn, settings, check_mode, evaluate, state):
    """Assess and decide into ``state`` (from ``new_state``), stopping as early as the run may.

    ``evaluate(findings)`` templates the role's rules and investigation over the findings and
    returns ``(matched rules, investigation)``; it lives in the action plugin (the templar).
    On an error, ``state`` still says which Leases the run holds, for the finish to free.
    """
    refusal = decide.target_refusal(
        settings["target"],
        settings["protected_namespaces"],
        settings["protected_exemptions"],
        system=settings["system"],
        label_system=(settings.get("alert_label_values") or {}).get("system"),
        role=settings["role"],
    )
    if refusal:
        return stop(state, "refused", refusal + "; nothing was changed")
    firing, state["alert_since"], metrics = query_alert(conn, settings)
    state["findings"] = {
        "firing": bool(firing),
        "alerts": [s["labels"] for s in firing],
        "alert": dict(settings.get("alert_label_values") or {}),
        "target": dict(settings["target"]),
        "workload": {},
        "probes": {},
        **metrics,
    }
    add_event(state, "assess", "alert firing" if firing else "alert not firing")
    if not firing:
        return stop(
            state, "not_firing", "%s is not firing in Prometheus; nothing to do" % settings["alert"]
        )
    try:
        target = resolve_target(conn.k8s, settings["target"])
    except EngineError as error:
        return stop(state, "refused", "%s; nothing was changed" % error)
    state["target"] = target
    state["findings"]["target"] = target
    taken, held = guard.take(
        conn.k8s,
        state["run_id"],
        settings["alert"],
        [guard.object_ref(target)],
        limits(settings),
        check_mode=check_mode,
    )
    add_event(state, "guard", "lease " + (held[0]["outcome"] if held else "acquired"))
    if held:
        state["held"] = held
        return stop(state, held[0]["outcome"], held[0]["message"])
    state["acquired"] = not check_mode
    state["lease_objects"] = taken
    state["findings"]["workload"], state["findings"]["probes"] = investigate_workload(
        conn, settings, target
    )
    matched, state["investigation"] = evaluate(state["findings"])
    decisions = decide.plan(
        matched,
        target,
        protected=settings["protected_namespaces"],
        exemptions=settings["protected_exemptions"],
        approve=bool(settings["approve"]),
        max_mitigations=int(settings["max_mitigations"]),
    )
    others = decide.other_objects(decisions, target)
    if others:
        taken, held = guard.take(
            conn.k8s,
            state["run_id"],
            settings["alert"],
            others,
            limits(settings),
            check_mode=check_mode,
        )
        state["lease_objects"] += taken
        state["held"] = held
        decisions = decide.apply_holds(decisions, held)
    state["decisions"] = decisions
    state["planned"] = [d for d in decisions if d["status"] == "planned"]
    add_event(state, "decide", ", ".join(d["action"] for d in decisions) or "no rule matched")
    if not state["planned"]:
        stop(state, *decide.outcome_without_plan(decisions, state["held"], check_mode))
    return state


# Mitigate --------------------------------------------------------------------------------------


def silence_matchers(settings):
    """The alert's labels as Alertmanager matchers: each value is data, never a matcher string."""
    labels = {"alertname": settings["alert"], "system": settings["system"]}
    labels.update(settings.get("alert_labels") or {})
    return [{"name": k, "value": str(v), "is_regex": False} for k, v in labels.items()]


def silence(conn, state, settings, check_mode):
    """Silences the alert while mitigating; returns the silence ID ("" in check mode)."""
    result, _diff = ensure_silence_present(
        conn.alertmanager,
        {
            "matchers": silence_matchers(settings),
            "duration": settings["silence_duration"],
            "comment": "sre.runbooks run %s: %s"
            % (state["run_id"], ", ".join(d["action"] for d in state["planned"])),
            "created_by": "sre.runbooks",
        },
        check_mode=check_mode,
    )
    return "" if check_mode else result.get("silence_id") or ""


def _record(decision, changed, before, after, check_mode):
    return {
        "action": decision["action"],
        "reason": decision.get("reason") or "Remediated",
        "object": dict(decision["object"]),
        "before": before,
        "after": after,
        "changed": bool(changed),
        "check_mode": check_mode,
        "at": now_text(),
    }


def _exec(client, decision, check_mode):
    params = decision["params"]
    if check_mode:
        return False, params.get("before"), "not run (check mode)"
    specs = command_specs(
        [
            {
                "name": decision["action"],
                "namespace": params.get("namespace") or decision["object"]["namespace"],
                "pod": params["pod"],
                "container": params.get("container"),
                "command": params["command"],
            }
        ]
    )
    output = run_commands(client, specs)[0]
    if output.get("error") or output.get("rc") != 0:
        raise EngineError(
            "%s: the command %s in pod %s %s"
            % (
                decision["action"],
                " ".join(output["command"]),
                params["pod"],
                output.get("error")
                or "exited %s: %s" % (output.get("rc"), output.get("stderr", "").strip()[:200]),
            )
        )
    after = params.get("after") or output.get("stdout", "").strip()[:200]
    return True, params.get("before"), after


def _scale(client, decision, check_mode):
    obj = decision["object"]
    replicas = decision["params"]["replicas"]
    current = client.get(obj["kind"], obj["namespace"], obj["name"])
    before = (current.get("spec") or {}).get("replicas")
    if before == replicas:
        return False, "%s replicas" % before, "%s replicas" % replicas
    client.patch(
        obj["kind"],
        obj["namespace"],
        obj["name"],
        {"spec": {"replicas": replicas}},
        patch_type="merge",
        dry_run=check_mode,
        action="scale",
    )
    return True, "%s replicas" % before, "%s replicas" % replicas


def _configmap(client, decision, check_mode):
    obj = decision["object"]
    data = {k: str(v) for k, v in decision["params"]["data"].items()}
    current = client.get("ConfigMap", obj["namespace"], obj["name"])
    live = current.get("data") or {}
    if all(live.get(k) == v for k, v in data.items()):
        return False, decision["params"].get("data_before"), _json(data)
    client.patch(
        "ConfigMap",
        obj["namespace"],
        obj["name"],
        {"data": data},
        patch_type="merge",
        dry_run=check_mode,
    )
    return (
        True,
        decision["params"].get("data_before") or _json({k: live.get(k) for k in data}),
        _json(data),
    )


def _json(value):
    import json  # noqa: PLC0415

    return json.dumps(value, sort_keys=True)


def _delete_pods(client, decision, check_mode):
    params = decision["params"]
    namespace = params.get("namespace") or decision["object"]["namespace"]
    deleted = []
    for pod in params["pods"]:
        answer = client.request(
            "DELETE",
            "/api/v1/namespaces/%s/pods/%s" % (namespace, pod),
            "delete",
            target_text("Pod", namespace, pod),
            allow_404=True,
            params={"dryRun": "All" if check_mode else None},
        )
        if answer is not None:
            deleted.append(pod)
    return (
        bool(deleted),
        "%s running" % ", ".join(params["pods"]),
        ("deleted (recreated by their controller)" if deleted else "already gone"),
    )


def _pvc_expand(client, decision, check_mode):
    params = decision["params"]
    namespace = params.get("namespace") or decision["object"]["namespace"]
    claim = client.get("PersistentVolumeClaim", namespace, params["claim"])
    size = (((claim.get("spec") or {}).get("resources") or {}).get("requests") or {}).get("storage")
    if size and same_quantity(size, params["size"], resource=True):
        return False, size, params["size"]
    client.patch(
        "PersistentVolumeClaim",
        namespace,
        params["claim"],
        {"spec": {"resources": {"requests": {"storage": params["size"]}}}},
        patch_type="merge",
        dry_run=check_mode,
    )
    return True, params.get("size_before") or size, params["size"]


def _rollout(client, decision, check_mode):
    obj = decision["object"]
    action = "undo" if decision["type"] == "rollout_undo" else "restart"
    result, _diff = run_rollout(
        client,
        {
            "kind": obj["kind"],
            "namespace": obj["namespace"],
            "name": obj["name"],
            "action": action,
            "to_revision": decision["params"].get("to_revision") or 0,
        },
        check_mode=check_mode,
    )
    before = "revision %s" % result["revision_before"]
    if action == "undo":
        after = "revision %s (template of revision %s)" % (
            result["revision_after"],
            result.get("target_revision", "?"),
        )
    else:
        after = "revision %s (every pod replaced)" % result["revision_after"]
    return result["changed"], before, after


def _container(client, decision, check_mode):
    obj = decision["object"]
    params = dict(
        decision["params"], kind=obj["kind"], namespace=obj["namespace"], name=obj["name"]
    )
    for key in ("resources", "env", "liveness_probe", "readiness_probe"):
        params.setdefault(key, None)
    params.setdefault("remove_env", None)
    result, _diff = run_container_patch(client, params, check_mode=check_mode)
    return result["changed"], _json(result.get("before") or {}), _json(result.get("patch") or {})


def _http(client, decision, check_mode):
    params = decision["params"]
    result = run_request(
        client,
        {
            "kind": params.get("kind") or "Service",
            "name": params["service"],
            "namespace": params.get("namespace") or decision["object"]["namespace"],
            "port": params["port"],
            "scheme": "http",
            "path": params["path"],
            "method": params.get("method") or "POST",
            "body": params.get("body"),
            "changes": True,
            "status_code": params.get("status_code") or [200],
            "timeout": 30,
        },
        check_mode=check_mode,
    )
    after = "HTTP %s" % result["status"] if "status" in result else "not sent (check mode)"
    return result["changed"], params.get("before"), after


EXECUTORS = {
    "rollout_undo": _rollout,
    "rollout_restart": _rollout,
    "scale": _scale,
    "container_patch": _container,
    "configmap_patch": _configmap,
    "delete_pods": _delete_pods,
    "exec": _exec,
    "http": _http,
    "pvc_expand": _pvc_expand,
}


def apply(conn, decision, check_mode):
    """Runs one planned mitigation; returns its action record."""
    changed, before, after = EXECUTORS[decision["type"]](conn.k8s, decision, check_mode)
    return _record(decision, changed, before, after, check_mode)


# Verify ----------------------------------------------------------------------------------------


def verify(conn, state, actions, settings):
    """Rollouts of the changed workloads complete, then the alert's own expression clears."""
    deadline = time.monotonic() + float(settings["verify_timeout"])
    started = time.time()
    workloads = []
    for action in actions:
        obj = action["object"]
        if action["changed"] and obj["kind"] in WORKLOAD_KINDS and obj not in workloads:
            workloads.append(obj)
    for obj in workloads:
        left = max(deadline - time.monotonic(), 1.0)
        wait_for_rollout(conn.k8s, obj["kind"], obj["namespace"], obj["name"], timeout=left)
    interval = float(settings["verify_interval"])
    still = None
    while True:
        still = conn.prometheus.query(settings["firing_query"])["results"]
        if not still or time.monotonic() + interval > deadline:
            break
        time.sleep(interval)
    recovered = not still
    outcome, message = decide.verified_outcome(
        settings["alert"], recovered, actions, settings["verify_timeout"]
    )
    verification = {
        "recovered": recovered,
        "seconds": round(time.time() - started, 1),
        "query": settings["firing_query"],
        "still_firing": [s["labels"] for s in still or []],
    }
    return verification, outcome, message


# Finish ----------------------------------------------------------------------------------------


def release(conn, state, actions, outcome, settings):
    """Events, mitigation history and audit lines for every change; every Lease freed."""
    changed = [a for a in actions if a["changed"] and not a["check_mode"]]
    holder, alert = state["run_id"], settings["alert"]
    now = guard.utcnow()
    for record in changed:
        obj = record["object"]
        guard.Guard(conn.k8s, obj["kind"], obj["namespace"], obj["name"], holder).emit(
            guard.event_body(record, holder, alert, now)
        )
    objects = state["lease_objects"] or [guard.object_ref(state["target"])]
    guard.give_back(
        conn.k8s,
        holder,
        alert,
        objects,
        changed,
        mitigated_target=bool(changed),
        limits=limits(settings),
        now=now,
    )
    audit = settings.get("audit_log") or os.path.join(state["report_dir"], "audit.jsonl")
    base = {"run": holder, "alert": alert, "at": guard.micro_time(now)}
    lines = [dict(base, kind="action", **record) for record in changed]
    lines.append(dict(base, kind="run", target=guard.object_ref(state["target"]), outcome=outcome))
    guard.append_audit(audit, lines)
    return audit


def lift_silence(conn, silence_id):
    ensure_silence_absent(
        conn.alertmanager, {"silence_id": silence_id, "matchers": None, "created_by": None}
    )


def safely(step, errors, *args, **kwargs):
    """Runs a finishing step; a failure is recorded, and the other steps still run."""
    try:
        return step(*args, **kwargs)
    except (K8sError, APIError, EngineError, OSError, ValueError) as error:
        errors.append("%s: %s" % (step.__name__.strip("_"), error))
        return None


__all__ = [
    "APIClient",
    "Connections",
    "apply",
    "assess",
    "lift_silence",
    "release",
    "rollout_status",
    "safely",
    "silence",
    "verify",
]
