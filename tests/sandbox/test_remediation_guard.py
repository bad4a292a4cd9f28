"""sre.runbooks.k8s_remediation_guard: the Lease, the cooldown stamp, Events and audit lines."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import kubectl, kubectl_json

pytestmark = pytest.mark.k8s

Module = Callable[..., dict[str, Any]]
LEASE = "sre-runbooks-deployment-{}"


@pytest.fixture
def target(kubeconfig: str, namespace: str, request: pytest.FixtureRequest) -> str:
    """A fresh Deployment per test, so that Leases and stamps never carry over."""
    name = "guard-" + request.node.name.split("[")[0].replace("_", "-")[5:40].strip("-")
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", name, "--image=nginx:1.27")
    return name


def _guard(
    module: Module, kubeconfig: str, namespace: str, name: str, **options: Any
) -> dict[str, Any]:
    args = {
        "kubeconfig": kubeconfig,
        "namespace": namespace,
        "name": name,
        "alert": "HighErrorRate",
    }
    args.update(options)
    check = args.pop("_check", False)
    return module("sre.runbooks.k8s_remediation_guard", args, check=check)


def test_acquire_creates_a_lease_that_a_second_run_respects(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    first = _guard(ansible_module, kubeconfig, namespace, target, holder="run-a")
    assert first["outcome"] == "acquired", first
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    assert lease["spec"]["holderIdentity"] == "run-a"
    assert lease["spec"]["leaseDurationSeconds"] == 900
    second = _guard(ansible_module, kubeconfig, namespace, target, holder="run-b")
    assert second["outcome"] == "locked"
    assert second["holder"] == "run-a"


def test_an_expired_lease_is_taken_over(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    _guard(ansible_module, kubeconfig, namespace, target, holder="dead-run", lease_duration=1)
    kubectl(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    time.sleep(1.5)
    taken = _guard(ansible_module, kubeconfig, namespace, target, holder="run-b")
    assert taken["outcome"] == "acquired", taken
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    assert lease["spec"]["holderIdentity"] == "run-b"
    assert lease["spec"]["leaseTransitions"] == 1


def test_check_mode_takes_no_lease(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    result = _guard(ansible_module, kubeconfig, namespace, target, holder="run-a", _check=True)
    assert result["outcome"] == "acquired"
    gone = kubectl(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target), check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr


def test_release_records_events_stamp_and_audit_then_the_cooldown_holds(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str, tmp_path: Path
) -> None:
    _guard(ansible_module, kubeconfig, namespace, target, holder="run-a")
    audit = tmp_path / "audit" / "audit.jsonl"
    released = _guard(
        ansible_module,
        kubeconfig,
        namespace,
        target,
        holder="run-a",
        state="released",
        mitigated=True,
        outcome="resolved",
        audit_log=str(audit),
        records=[
            {
                "action": "rollback",
                "reason": "RolloutUndone",
                "object": {"kind": "Deployment", "namespace": namespace, "name": target},
                "before": "revision 2",
                "after": "revision 3",
            }
        ],
    )
    assert released["released"] is True and len(released["events"]) == 1, released
    events = kubectl_json(kubeconfig, "-n", namespace, "get", "events.v1.events.k8s.io")["items"]
    ours = [e for e in events if e.get("reportingController") == "sre.runbooks"]
    assert len(ours) == 1
    assert ours[0]["reason"] == "RolloutUndone"
    assert ours[0]["regarding"]["name"] == target
    assert ours[0]["note"] == "HighErrorRate: rollback: revision 2 -> revision 3 (run run-a)"
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    assert not lease["spec"].get("holderIdentity")
    assert [entry["run"] for entry in _history(kubeconfig, namespace, target)] == ["run-a"]
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["action", "run"]
    assert oct(audit.stat().st_mode & 0o777) == "0o600"

    again = _guard(ansible_module, kubeconfig, namespace, target, holder="run-b")
    assert again["outcome"] == "cooldown"
    assert "run-a" in again["message"]
    assert 0 < again["remaining"] <= 900
    # The cooldown gave the Lease back.
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    assert not lease["spec"].get("holderIdentity")
    assert (
        _guard(ansible_module, kubeconfig, namespace, target, holder="run-c", cooldown=0)["outcome"]
        == "acquired"
    )


def _history(kubeconfig: str, namespace: str, name: str, kind: str = "deploy") -> list[dict]:
    annotations = kubectl_json(kubeconfig, "-n", namespace, "get", kind, name)["metadata"].get(
        "annotations"
    )
    return json.loads((annotations or {}).get("sre.runbooks/mitigations", "[]"))


def _mitigate(module: Module, kubeconfig: str, namespace: str, target: str, alert: str) -> None:
    """One run of `alert` that takes the target and records a change to it."""
    holder = f"run-{alert.lower()}"
    taken = _guard(module, kubeconfig, namespace, target, holder=holder, alert=alert)
    assert taken["outcome"] == "acquired", taken
    record = {
        "action": "scale_up",
        "object": {"kind": "Deployment", "namespace": namespace, "name": target},
    }
    _guard(
        module,
        kubeconfig,
        namespace,
        target,
        holder=holder,
        alert=alert,
        state="released",
        mitigated=True,
        records=[record],
    )


def test_another_alert_cures_within_the_cooldown_until_the_budget_is_spent(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    _mitigate(ansible_module, kubeconfig, namespace, target, "ServiceDown")
    # The same alert again is a storm; a different failure of the same target is not.
    again = _guard(ansible_module, kubeconfig, namespace, target, holder="x", alert="ServiceDown")
    assert again["outcome"] == "cooldown", again
    _mitigate(ansible_module, kubeconfig, namespace, target, "HighErrorRate")
    _mitigate(ansible_module, kubeconfig, namespace, target, "HighLatency")
    assert [entry["alert"] for entry in _history(kubeconfig, namespace, target)] == [
        "ServiceDown",
        "HighErrorRate",
        "HighLatency",
    ]
    held = _guard(ansible_module, kubeconfig, namespace, target, holder="y", alert="PodRestart")
    assert held["outcome"] == "budget", held
    assert "3 times" in held["message"]
    assert held["remaining"] > 0
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(target))
    assert not lease["spec"].get("holderIdentity")
    looser = _guard(
        ansible_module, kubeconfig, namespace, target, holder="z", alert="PodRestart", budget=4
    )
    assert looser["outcome"] == "acquired", looser


def test_every_object_a_run_changes_is_leased_checked_and_recorded(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    other = f"{target[:50]}-dep"
    busy = f"{target[:50]}-busy"
    for name in (other, busy):
        kubectl(kubeconfig, "-n", namespace, "create", "deployment", name, "--image=nginx:1.27")
    _guard(ansible_module, kubeconfig, namespace, busy, holder="someone-else")
    extra = [
        {"kind": "Deployment", "namespace": namespace, "name": other},
        {"kind": "Deployment", "namespace": namespace, "name": busy},
    ]
    taken = _guard(ansible_module, kubeconfig, namespace, target, holder="run-a", objects=extra)
    assert taken["outcome"] == "acquired", taken
    assert [o["name"] for o in taken["taken"]] == [target, other]
    assert [(h["object"]["name"], h["outcome"]) for h in taken["held"]] == [(busy, "locked")]
    assert "someone-else" in taken["held"][0]["message"]
    lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(other))
    assert lease["spec"]["holderIdentity"] == "run-a"

    released = _guard(
        ansible_module,
        kubeconfig,
        namespace,
        target,
        holder="run-a",
        state="released",
        mitigated=True,
        objects=extra[:1],
        records=[{"action": "rollout_restart", "reason": "Restarted", "object": extra[0]}],
    )
    assert {o["name"] for o in released["released_objects"]} == {target, other}
    for name in (target, other):
        lease = kubectl_json(kubeconfig, "-n", namespace, "get", "lease", LEASE.format(name))
        assert not lease["spec"].get("holderIdentity")
    assert [e["actions"] for e in _history(kubeconfig, namespace, other)] == [["rollout_restart"]]
    events = kubectl_json(kubeconfig, "-n", namespace, "get", "events.v1.events.k8s.io")["items"]
    mine = {target, other, busy}
    assert [
        e["regarding"]["name"]
        for e in events
        if e.get("reportingController") == "sre.runbooks" and e["regarding"]["name"] in mine
    ] == [other]


def test_of_concurrent_runs_exactly_one_acquires(
    ansible_module: Module, kubeconfig: str, namespace: str, target: str
) -> None:
    outcomes: list[str] = []

    def run(holder: str) -> None:
        outcomes.append(
            _guard(ansible_module, kubeconfig, namespace, target, holder=holder)["outcome"]
        )

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["acquired", "locked", "locked", "locked"]


def test_a_missing_target_fails_clearly(
    ansible_module: Module, kubeconfig: str, namespace: str
) -> None:
    result = _guard(ansible_module, kubeconfig, namespace, "no-such-deployment", holder="run-a")
    assert result.get("failed")
    assert "does not exist" in result["msg"]
