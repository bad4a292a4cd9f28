"""pods/log: kubectl logs and the Python client, read from the simulated applications."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from fake_workloads import FAULT
from sandbox_helpers import kubectl, restart_count, running_pod, server_url, wait_for

pytestmark = pytest.mark.k8s


@pytest.fixture(scope="module")
def pods(workloads_kubeconfig: str, workloads_namespace: str) -> str:
    """A one-container pod `solo`, a two-container pod `pair` and a crash-looping `crash`."""
    running_pod(workloads_kubeconfig, workloads_namespace, "solo")
    running_pod(workloads_kubeconfig, workloads_namespace, "pair", containers=("app", "sidecar"))
    running_pod(workloads_kubeconfig, workloads_namespace, "crash", labels={FAULT: "oom"})
    return workloads_namespace


def test_kubectl_logs_prints_the_container_lines(workloads_kubeconfig: str, pods: str) -> None:
    out = kubectl(workloads_kubeconfig, "logs", "solo", "-n", pods).stdout
    assert out.splitlines() == [f"app in solo: line {i}" for i in range(1, 6)]


def test_tail_and_timestamps(workloads_kubeconfig: str, pods: str) -> None:
    out = kubectl(workloads_kubeconfig, "logs", "solo", "-n", pods, "--tail=2", "--timestamps")
    lines = out.stdout.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "app in solo: line 4",
        "app in solo: line 5",
    ]
    stamp = lines[0].split(" ", 1)[0]
    assert stamp.endswith("Z")
    assert "T" in stamp


def test_container_flag_and_missing_container_name(workloads_kubeconfig: str, pods: str) -> None:
    out = kubectl(workloads_kubeconfig, "logs", "pair", "-c", "sidecar", "-n", pods).stdout
    assert out.splitlines()[0] == "sidecar in pair: line 1"
    url = f"{server_url(workloads_kubeconfig)}/api/v1/namespaces/{pods}/pods/pair/log"
    with pytest.raises(urllib.error.HTTPError) as failure:
        urllib.request.urlopen(url, timeout=10)
    status = json.load(failure.value)
    failure.value.close()
    assert failure.value.code == 400
    assert status["reason"] == "BadRequest"
    assert status["message"] == (
        "a container name must be specified for pod pair, choose one of: [app sidecar]"
    )
    wrong = kubectl(workloads_kubeconfig, "logs", "solo", "-c", "nope", "-n", pods, check=False)
    assert wrong.returncode != 0
    assert "container nope is not valid for pod solo" in wrong.stderr


def test_previous_logs_of_a_crashed_container(workloads_kubeconfig: str, pods: str) -> None:
    wait_for(
        lambda: restart_count(workloads_kubeconfig, pods, "crash") > 0,
        "the crashing container to restart",
    )
    out = kubectl(workloads_kubeconfig, "logs", "crash", "--previous", "-n", pods).stdout
    assert out.splitlines()[-1] == "app in crash: out of memory"
    none = kubectl(workloads_kubeconfig, "logs", "solo", "--previous", "-n", pods, check=False)
    assert none.returncode != 0
    assert 'previous terminated container "app" in pod "solo" not found' in none.stderr


def test_follow_ends_after_the_existing_lines(workloads_kubeconfig: str, pods: str) -> None:
    out = kubectl(workloads_kubeconfig, "logs", "-f", "solo", "-n", pods).stdout
    assert out.splitlines()[-1] == "app in solo: line 5"


def test_python_client_reads_logs(workloads_client: object, pods: str) -> None:
    from kubernetes import client  # noqa: PLC0415  (heavy import)

    core = client.CoreV1Api(workloads_client)
    text = core.read_namespaced_pod_log("pair", pods, container="app", tail_lines=1)
    assert text == "app in pair: line 5\n"


def test_logs_of_a_missing_pod_is_404(api_client: object, namespace: str) -> None:
    from kubernetes import client  # noqa: PLC0415
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    with pytest.raises(ApiException) as failure:
        client.CoreV1Api(api_client).read_namespaced_pod_log("ghost", namespace)
    assert failure.value.status == 404
    assert json.loads(failure.value.body)["message"] == 'pods "ghost" not found'
