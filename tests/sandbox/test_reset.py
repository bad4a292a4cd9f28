"""`runbook sandbox reset`: a running sandbox back to the state `up` left it in, quickly.

What a scenario and a remediation leave behind (a fault's rollout, a scaled Deployment, a
Lease, an Event and the mitigation annotation of sre.runbooks, an extra object, a silence, a
firing alert) is gone after the reset: every object is as `up` created it, no alert is pending
or firing in Prometheus or listed by Alertmanager, no silence is active, and a fault injected
afterwards fires again. The API server's own reset (`ApiServer.reset`) is checked in-process:
resourceVersions go on, open watches end and an old resourceVersion is too old to watch from.

The reset is the simulator's: on a real cluster (SRE_RUNBOOKS_TEST_KUBECONFIG) these tests skip.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from scenario_helpers import DEADLINE, runbook, wait_until

from sre_runbooks.monitoring.binaries import MissingBinaryError, find_binary
from sre_runbooks_sandbox.control import inject, wait_firing

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.skipif(
        bool(os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG")),
        reason="resets the simulator; a real cluster has no reset",
    ),
]

# Every kind the simulator serves, by list path.
LISTS = (
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/api/v1/pods",
    "/api/v1/services",
    "/api/v1/endpoints",
    "/api/v1/configmaps",
    "/api/v1/secrets",
    "/api/v1/persistentvolumeclaims",
    "/api/v1/events",
    "/apis/apps/v1/deployments",
    "/apis/apps/v1/replicasets",
    "/apis/apps/v1/statefulsets",
    "/apis/apps/v1/daemonsets",
    "/apis/apps/v1/controllerrevisions",
    "/apis/coordination.k8s.io/v1/leases",
    "/apis/storage.k8s.io/v1/storageclasses",
    "/apis/networking.k8s.io/v1/networkpolicies",
)
# A reset on an idle machine takes a few seconds (scrape, evaluation, one quiet interval); the
# bound leaves room for a loaded one and still fails a reset that waits for windows to run out.
RESET_BOUND = 30.0


def _call(url: str, method: str = "GET", body: Any = None, kind: str = "application/json") -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": kind})
    with urllib.request.urlopen(request, timeout=10) as response:
        payload = response.read()
    return json.loads(payload) if payload.strip() else None


def _snapshot(api: str) -> dict[tuple[str, str, str], Any]:
    """Every object by (list path, namespace, name): what a client or a change would see.

    Pods (random name suffixes) are keyed by their generateName and listed together; UIDs,
    which name objects of one cluster only, are left out. Events are left out: their names and
    times are the moment's; `_runs_events` reads what a run recorded.
    """
    objects: dict[tuple[str, str, str], Any] = {}
    for path in LISTS:
        if path.endswith("/events"):
            continue
        for obj in _call(f"{api}{path}")["items"]:
            meta = obj["metadata"]
            seen = {
                "labels": meta.get("labels"),
                "annotations": meta.get("annotations"),
                "owners": [(o["kind"], o["name"]) for o in meta.get("ownerReferences", [])],
                "spec": obj.get("spec"),
                "data": obj.get("data"),
            }
            name = meta["name"]
            if path.endswith("/pods"):
                # The spec names the node the scheduler chose and a volume with a random
                # suffix, which the containers mount: the containers say what runs.
                containers = json.dumps(obj["spec"]["containers"], sort_keys=True)
                seen["spec"] = re.sub(r"kube-api-access-[a-z0-9]+", "kube-api-access", containers)
                name = meta.get("generateName") or name
                objects.setdefault((path, meta.get("namespace", ""), name), []).append(seen)
                continue
            objects[(path, meta.get("namespace", ""), name)] = seen
    for value in objects.values():
        if isinstance(value, list):
            value.sort(key=lambda item: json.dumps(item, sort_keys=True))
    return objects


def _runs_events(api: str) -> list[dict[str, Any]]:
    """Events recorded by sre.runbooks, and Events about objects that no longer exist."""
    events = _call(f"{api}/apis/events.k8s.io/v1/events")["items"]
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]) for p in _list(api, "/api/v1/pods")}
    return [
        e
        for e in events
        if e.get("reportingController") == "sre.runbooks"
        or (
            e.get("regarding", {}).get("kind") == "Pod"
            and (e["regarding"].get("namespace"), e["regarding"].get("name")) not in pods
        )
    ]


def _list(api: str, path: str) -> list[dict[str, Any]]:
    return list(_call(f"{api}{path}")["items"])


def _alerts(prometheus: str) -> list[dict[str, Any]]:
    return list(_call(f"{prometheus}/api/v1/alerts")["data"]["alerts"])


def _hit_ratio(prometheus: str) -> float | None:
    hits, misses = "rate(redis_keyspace_hits_total[5s])", "rate(redis_keyspace_misses_total[5s])"
    query = urllib.parse.urlencode({"query": f"sum({hits}) / (sum({hits}) + sum({misses}))"})
    result = _call(f"{prometheus}/api/v1/query?{query}")["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def _active_silences(alertmanager: str) -> list[dict[str, Any]]:
    return [
        s for s in _call(f"{alertmanager}/api/v2/silences") if s["status"]["state"] != "expired"
    ]


def _leave_a_mess(api: str, alertmanager: str) -> None:
    """What runs leave: objects, an annotation, a Lease, an Event, a silence."""
    patch = "application/merge-patch+json"
    deployment = f"{api}/apis/apps/v1/namespaces/nimify-system/deployments/nimify-api"
    _call(
        deployment,
        "PATCH",
        {"metadata": {"annotations": {"sre.runbooks/mitigations": '[{"action": "rollback"}]'}}},
        patch,
    )
    _call(
        f"{api}/apis/apps/v1/namespaces/nimify-system/deployments/redis",
        "PATCH",
        {"spec": {"replicas": 2}},
        patch,
    )
    _call(
        f"{api}/apis/coordination.k8s.io/v1/namespaces/nimify-system/leases",
        "POST",
        {
            "metadata": {"name": "sre-runbooks-deployment-nimify-api"},
            "spec": {"holderIdentity": "run-1", "leaseDurationSeconds": 300},
        },
    )
    _call(
        f"{api}/apis/events.k8s.io/v1/namespaces/nimify-system/events",
        "POST",
        {
            "metadata": {"name": "nimify-api.sre-runbooks-1"},
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "sre.runbooks",
            "reportingInstance": "run-1",
            "action": "Rollback",
            "reason": "Mitigated",
            "type": "Normal",
            "note": "rolled back",
            "regarding": {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"},
        },
    )
    _call(f"{api}/api/v1/namespaces", "POST", {"metadata": {"name": "left-behind"}})
    _call(
        f"{api}/api/v1/namespaces/left-behind/configmaps",
        "POST",
        {"metadata": {"name": "notes"}, "data": {"a": "b"}},
    )
    now = time.time()
    _call(
        f"{alertmanager}/api/v2/silences",
        "POST",
        {
            "matchers": [{"name": "alertname", "value": "HighErrorRate", "isRegex": False}],
            "startsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 1)),
            "endsAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now + 3600)),
            "createdBy": "sre.runbooks",
            "comment": "mitigating",
        },
    )


@pytest.fixture(scope="module")
def sandbox_state(sandbox: dict[str, Any]) -> dict[str, Any]:
    try:
        find_binary("prometheus"), find_binary("alertmanager")
    except MissingBinaryError as missing:
        pytest.skip(str(missing))
    return sandbox


def test_reset_brings_back_the_state_up_created(sandbox_state: dict[str, Any]) -> None:
    state_dir: Path = sandbox_state["state_dir_path"]
    api = sandbox_state["api_url"]
    prometheus, alertmanager = sandbox_state["prometheus_url"], sandbox_state["alertmanager_url"]
    initial = _snapshot(api)
    rv_before = int(_call(f"{api}/api/v1/namespaces")["metadata"]["resourceVersion"])

    inject(state_dir, "HighErrorRate", "nimify")  # a new rollout revision and a bad image
    inject(state_dir, "CacheHitRateLow", "nimify")  # the model: redis maxmemory
    _leave_a_mess(api, alertmanager)
    wait_firing(state_dir, "HighErrorRate", "nimify", DEADLINE)
    assert _active_silences(alertmanager)

    started = time.monotonic()
    result = runbook("sandbox", "reset", "--state-dir", str(state_dir))
    took = time.monotonic() - started
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["workloads_ready"] is True
    assert answer["silences_expired"] == 1
    assert took < RESET_BOUND, f"the reset took {took:.1f} s"

    after = _snapshot(api)
    assert sorted(set(after) - set(initial)) == []
    assert sorted(set(initial) - set(after)) == []
    changed = {key: (initial[key], after[key]) for key in initial if initial[key] != after[key]}
    assert changed == {}
    assert _runs_events(api) == []
    assert int(_call(f"{api}/api/v1/namespaces")["metadata"]["resourceVersion"]) > rv_before
    # Quiet: no alert in Prometheus, none in Alertmanager, no active silence, no fault.
    assert _alerts(prometheus) == []
    assert _call(f"{alertmanager}/api/v2/alerts") == []
    assert _active_silences(alertmanager) == []
    control_url = sandbox_state["control_url"]
    assert _call(f"{control_url}/control/status")["active"] == []
    # The systems' metrics are back to normal: Redis hits 95% again (55% with the fault).
    assert wait_until(lambda: (_hit_ratio(prometheus) or 0) > 0.9, 15), _hit_ratio(prometheus)

    # The new cluster and its systems work: a fault fires again and the reset clears it again.
    inject(state_dir, "HighErrorRate", "nimify")
    wait_firing(state_dir, "HighErrorRate", "nimify", DEADLINE)
    again = runbook("sandbox", "reset", "--state-dir", str(state_dir))
    assert again.returncode == 0, again.stderr
    assert _alerts(prometheus) == []
    assert _snapshot(api) == initial


def test_reset_of_a_stopped_sandbox_fails(tmp_path: Path) -> None:
    result = runbook("sandbox", "reset", "--state-dir", str(tmp_path / "none"))
    assert result.returncode == 1
    assert "not running" in result.stderr


def test_apiserver_reset_continues_resource_versions_and_ends_watches() -> None:
    from sre_runbooks_sandbox.apiserver import start_apiserver  # noqa: PLC0415  (simulator only)

    with start_apiserver() as server:
        api = server.url
        initial = _snapshot(api)
        _call(f"{api}/api/v1/namespaces", "POST", {"metadata": {"name": "scratch"}})
        rv = int(_call(f"{api}/api/v1/namespaces")["metadata"]["resourceVersion"])
        ended = threading.Event()

        def watch() -> None:
            url = f"{api}/api/v1/namespaces?watch=1&resourceVersion={rv}&timeoutSeconds=60"
            with urllib.request.urlopen(url, timeout=90) as stream:
                stream.read()
            ended.set()

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        time.sleep(0.3)
        server.reset()
        assert ended.wait(10), "a watch on the replaced cluster did not end"

        assert _snapshot(api) == initial
        listed = _call(f"{api}/api/v1/namespaces")
        assert int(listed["metadata"]["resourceVersion"]) > rv
        # A client that watches on from before the reset must list again.
        url = f"{api}/api/v1/namespaces?watch=1&resourceVersion={rv}&timeoutSeconds=1"
        with urllib.request.urlopen(url, timeout=10) as stream:
            first = json.loads(stream.readline())
        assert first["type"] == "ERROR"
        assert first["object"]["code"] == 410
        with pytest.raises(urllib.error.HTTPError) as missing:
            _call(f"{api}/api/v1/namespaces/scratch")
        missing.value.close()
        assert missing.value.code == 404
