"""services/proxy and pods/proxy: HTTP to the simulated applications through the API server."""

from __future__ import annotations

import json

import pytest
from sandbox_helpers import kubectl, running_pod, wait_for

pytestmark = pytest.mark.k8s


def _service(kubeconfig: str, namespace: str, name: str, selector: dict[str, str]) -> None:
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            "selector": selector,
        },
    }
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(manifest))


@pytest.fixture(scope="module")
def served(workloads_kubeconfig: str, workloads_namespace: str) -> str:
    """Pod `api-0` (label app=api, port `http` 8000) behind Service `api`."""
    running_pod(workloads_kubeconfig, workloads_namespace, "api-0", labels={"app": "api"})
    _service(workloads_kubeconfig, workloads_namespace, "api", {"app": "api"})
    wait_for(
        lambda: (
            "10.244."
            in kubectl(
                workloads_kubeconfig, "get", "endpoints", "api", "-n", workloads_namespace
            ).stdout
        ),
        "the Service's endpoints",
    )
    return workloads_namespace


def test_service_proxy_with_the_python_client(workloads_client: object, served: str) -> None:
    from kubernetes import client  # noqa: PLC0415  (heavy import)

    core = client.CoreV1Api(workloads_client)
    # The client turns a JSON answer into a Python object and then into its str(); the raw
    # response keeps the body as the application sent it.
    response = core.connect_get_namespaced_service_proxy_with_path(
        "api:http", served, "health", _preload_content=False
    )
    assert json.loads(response.data) == {"status": "ok", "pod": "api-0", "port": "8000"}


def test_service_proxy_with_kubectl_get_raw(workloads_kubeconfig: str, served: str) -> None:
    path = f"/api/v1/namespaces/{served}/services/http:api:80/proxy/health"
    answer = json.loads(kubectl(workloads_kubeconfig, "get", "--raw", path).stdout)
    assert answer["pod"] == "api-0"
    missing = kubectl(
        workloads_kubeconfig, "get", "--raw", path.replace("/health", "/nope"), check=False
    )
    assert missing.returncode != 0


def test_pod_proxy(workloads_kubeconfig: str, served: str) -> None:
    path = f"/api/v1/namespaces/{served}/pods/api-0:8000/proxy/health"
    answer = json.loads(kubectl(workloads_kubeconfig, "get", "--raw", path).stdout)
    assert answer == {"status": "ok", "pod": "api-0", "port": "8000"}


def test_service_without_endpoints_is_503(api_client: object, namespace: str) -> None:
    """Runs against real clusters too: a Service selecting no pod has no endpoints."""
    from kubernetes import client  # noqa: PLC0415
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "lonely"},
            "spec": {"ports": [{"port": 80}], "selector": {"app": "nobody"}},
        },
    )

    def endpoints_written() -> bool:
        # The proxy looks the Service's Endpoints up: until the endpoints controller has
        # written them (with no addresses), it answers 404 `endpoints "lonely" not found`.
        try:
            core.read_namespaced_endpoints("lonely", namespace)
        except ApiException as error:
            assert error.status == 404, error
            return False
        return True

    wait_for(endpoints_written, "the endpoints controller to write the Service's Endpoints")
    for target in ("lonely", "lonely:80"):
        with pytest.raises(ApiException) as failure:
            core.connect_get_namespaced_service_proxy_with_path(target, namespace, "health")
        assert failure.value.status == 503, failure.value.body
        status = json.loads(failure.value.body)
        assert status["reason"] == "ServiceUnavailable"
        assert status["message"] == 'no endpoints available for service "lonely"'
