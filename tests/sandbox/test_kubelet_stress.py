"""Under load, every pod deletion completes and its replacement runs: no pod waits behind another.

The simulator runs the seed systems (postgres-0 of a StatefulSet among them) in this process
while busy-loop processes keep every CPU busy. Each round crash-loops postgres-0 (as a DatabaseDown
drill does), then deletes it and one nimify-api pod with `kubectl delete`, which returns only once
the pod is gone, and checks that both replacements run. In the first rounds every workload answers
at once (a slow kubectl then must still see postgres-0 go before its replacement comes); in the
last ones nimify-api's pods answer slowly and triton-server's pod never does.

The deadlines are generous, for a loaded machine: a deletion either completes in a few seconds or
never (a kubectl that missed the pod's removal waits for good), so no deadline decides a race.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_helpers import KUBECTL, kubectl, kubectl_json, wait_for

from sre_runbooks_sandbox.behaviour import ContainerRun
from sre_runbooks_sandbox.workloads import SandboxModel
from sre_runbooks_sandbox.workloads.kube import Kube
from sre_runbooks_sandbox.workloads.manifests import manifests
from sre_runbooks_sandbox.workloads.model import pod_app

pytestmark = pytest.mark.k8s

ROUNDS = 3
BUSY_FROM = 2  # the round from which some pods are slow or stuck
SLOW_SECONDS = 0.5  # how long a nimify-api container takes to answer the kubelet
SPINNERS = (os.cpu_count() or 2) + 1  # busy-loop processes: more than there are CPUs
DEADLINE = 120.0  # for one deletion or one replacement on a loaded machine


class BusyWorkloads(SandboxModel):
    """The seed systems, with slow pods, a pod that stops answering, and crash loops on demand."""

    def __init__(self) -> None:
        super().__init__()
        self.crashing: set[str] = set()  # uids of pods whose containers crash-loop
        self.slow = False  # nimify-api's pods take SLOW_SECONDS to answer
        self.stuck = threading.Event()  # once set, triton-server's pods never answer...
        self.released = threading.Event()  # ...until the test ends

    def container_run(self, pod: dict, container: dict) -> ContainerRun:
        app = pod_app(pod)
        if app == "triton-server" and self.stuck.is_set():
            self.released.wait()
        if app == "nimify-api" and self.slow:
            time.sleep(SLOW_SECONDS)
        if pod["metadata"]["uid"] in self.crashing:
            return ContainerRun(
                state="waiting",
                reason="CrashLoopBackOff",
                ready=False,
                restarting=True,
                restarts_per_minute=60.0,
                last_termination={"reason": "Error", "exitCode": 1},
            )
        return super().container_run(pod, container)


@pytest.fixture(scope="module")
def busy_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, BusyWorkloads]]:
    """A kubeconfig for the busy simulator, while busy loops run on every CPU."""
    if os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG"):
        pytest.skip("needs the simulator's workloads (SRE_RUNBOOKS_TEST_KUBECONFIG is set)")
    from sre_runbooks_sandbox.apiserver import start_apiserver  # noqa: PLC0415  (simulator only)

    path = tmp_path_factory.mktemp("busy") / "kubeconfig"
    workloads = BusyWorkloads()
    spin = [sys.executable, "-c", "while True: pass"]
    spinners = [subprocess.Popen(spin) for _ in range(SPINNERS)]
    try:
        with start_apiserver(kubeconfig=path, workloads=workloads) as server:
            try:
                kube = Kube(server.cluster)
                for obj in manifests():
                    kube.create(obj)
                yield str(path), workloads
            finally:
                workloads.released.set()
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _pod(kubeconfig: str, namespace: str, name: str) -> dict[str, Any] | None:
    result = kubectl(kubeconfig, "-n", namespace, "get", "pod", name, "-o", "json", check=False)
    if result.returncode != 0:
        assert "NotFound" in result.stderr, result.stderr
        return None
    return dict(json.loads(result.stdout))


def _running(pod: dict[str, Any] | None) -> bool:
    return bool(
        pod
        and pod["status"].get("phase") == "Running"
        and not pod["metadata"].get("deletionTimestamp")
        and all(s.get("ready") for s in pod["status"].get("containerStatuses") or [{}])
    )


def _waiting_reason(pod: dict[str, Any] | None) -> str:
    statuses = (pod or {}).get("status", {}).get("containerStatuses") or [{}]
    return str(statuses[0].get("state", {}).get("waiting", {}).get("reason", ""))


def _running_api_pods(kubeconfig: str) -> list[str]:
    pods = kubectl_json(kubeconfig, "-n", "nimify-system", "get", "pods", "-l", "app=nimify-api")
    return sorted(p["metadata"]["name"] for p in pods["items"] if _running(p))


def _delete(kubeconfig: str, namespace: str, name: str) -> subprocess.Popen[str]:
    """`kubectl delete pod`, which waits until the pod is gone, started in the background."""
    return subprocess.Popen(
        [KUBECTL, "--kubeconfig", kubeconfig, "-n", namespace, "delete", "pod", name],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finished(process: subprocess.Popen[str], what: str) -> None:
    try:
        out, err = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"{what} did not return within {DEADLINE:.0f} s")
    assert process.returncode == 0, f"{what}: {err}"
    assert "deleted" in out


def test_deletions_complete_and_replacements_run_while_cpus_and_pods_are_busy(
    busy_cluster: tuple[str, BusyWorkloads],
) -> None:
    kubeconfig, workloads = busy_cluster
    wait_for(lambda: _running(_pod(kubeconfig, "database", "postgres-0")), "postgres-0", DEADLINE)
    wait_for(lambda: len(_running_api_pods(kubeconfig)) == 3, "nimify-api's pods", DEADLINE)
    for round_ in range(ROUNDS):
        old = _pod(kubeconfig, "database", "postgres-0")
        assert old is not None
        workloads.crashing.add(old["metadata"]["uid"])
        wait_for(
            lambda: (
                _waiting_reason(_pod(kubeconfig, "database", "postgres-0")) == "CrashLoopBackOff"
            ),
            "postgres-0 to crash-loop",
            DEADLINE,
        )
        if round_ == BUSY_FROM:
            workloads.slow = True
            workloads.stuck.set()
        victim = _running_api_pods(kubeconfig)[0]
        deletions = [
            (_delete(kubeconfig, "database", "postgres-0"), "kubectl delete pod postgres-0"),
            (_delete(kubeconfig, "nimify-system", victim), f"kubectl delete pod {victim}"),
        ]
        try:
            for process, what in deletions:
                _finished(process, what)
        finally:
            for process, _ in deletions:
                if process.poll() is None:
                    process.kill()
                process.communicate()
        assert _pod(kubeconfig, "nimify-system", victim) is None

        def replaced(old_uid: str = old["metadata"]["uid"]) -> bool:
            pod = _pod(kubeconfig, "database", "postgres-0")
            return _running(pod) and pod is not None and pod["metadata"]["uid"] != old_uid

        wait_for(replaced, "a running postgres-0 in place of the deleted one", DEADLINE)
        wait_for(
            lambda victim=victim: (
                len(running := _running_api_pods(kubeconfig)) == 3 and victim not in running
            ),
            f"a running nimify-api pod in place of {victim}",
            DEADLINE,
        )
