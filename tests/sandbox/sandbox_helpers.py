"""Helpers shared by the sandbox tests: kubectl, polling, and the recorded reference answers."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# Copies of answers recorded from a real v1.36.2 API server (see reference/README.md).
REFERENCE = Path(__file__).parent / "reference"
KUBECTL = os.environ.get("KUBECTL", "kubectl")


def kubectl(kubeconfig: str, *args: str, check: bool = True, stdin: str | None = None) -> Any:
    """Run kubectl against the cluster; returns the CompletedProcess."""
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )
    if check and result.returncode != 0:
        pytest.fail(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


def kubectl_json(kubeconfig: str, *args: str) -> Any:
    """kubectl ... -o json, decoded."""
    return json.loads(kubectl(kubeconfig, *args, "-o", "json").stdout)


def wait_for(predicate: Callable[[], Any], what: str, deadline: float = 30.0) -> Any:
    """Poll `predicate` until it returns something truthy; fail after `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


def reference(relative: str) -> Any:
    """A file from the recorded real-server answers (JSON decoded, text otherwise)."""
    path = REFERENCE / relative
    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix == ".json" else text


def running_pod(
    kubeconfig: str,
    namespace: str,
    name: str,
    *,
    labels: dict[str, str] | None = None,
    containers: tuple[str, ...] = ("app",),
    port: int = 8000,
) -> dict:
    """Create a bare pod (containers with one named port each) and wait until it is bound."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"labels": labels or {}, "name": name, "namespace": namespace},
        "spec": {
            "containers": [
                {
                    "image": "nginx:1.27",
                    "name": c,
                    "ports": [{"containerPort": port, "name": "http"}],
                }
                for c in containers
            ]
        },
    }
    kubectl(kubeconfig, "apply", "-f", "-", stdin=json.dumps(manifest))
    return wait_for(
        lambda: (
            pod
            if (pod := kubectl_json(kubeconfig, "get", "pod", name, "-n", namespace))["status"].get(
                "containerStatuses"
            )
            else None
        ),
        f"pod {name} to start",
    )


def server_url(kubeconfig: str) -> str:
    """The API server URL in a kubeconfig."""
    import yaml  # noqa: PLC0415  (only some tests need it)

    config = yaml.safe_load(Path(kubeconfig).read_text(encoding="utf-8"))
    return config["clusters"][0]["cluster"]["server"]


def raw_request(
    cluster: str | Any,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: str | bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP request to the API server with the kubeconfig's TLS settings and credentials (its
    CA, client certificate and key, or token), through the `kubernetes` client's connection
    pool; `cluster` is a kubeconfig path or an ApiClient made from one. Returns (status,
    headers, body) whatever the status."""
    from kubernetes import config  # noqa: PLC0415  (heavy import, only for k8s tests)

    own = isinstance(cluster, str)
    client = config.new_client_from_config(config_file=cluster) if own else cluster
    try:
        settings = client.configuration
        sent = dict(headers or {})
        token = settings.get_api_key_with_prefix("authorization")
        if token:
            sent.setdefault("Authorization", token)
        response = client.rest_client.pool_manager.request(
            method, settings.host + path, body=body, headers=sent, timeout=30
        )
        return response.status, dict(response.headers), response.data
    finally:
        if own:
            client.close()


def pod_logs_unavailable(api_client: Any, namespace: str, pod: str) -> str | None:
    """Why the cluster cannot serve `pod`'s logs (no kubelet to ask, e.g. a bare control plane
    with a kubelet stand-in), or None when it can."""
    from kubernetes import client  # noqa: PLC0415
    from kubernetes.client.exceptions import ApiException  # noqa: PLC0415

    try:
        client.CoreV1Api(api_client).read_namespaced_pod_log(
            pod, namespace, tail_lines=1, _request_timeout=30
        )
    except ApiException as error:
        return f"pods/log answers {error.status} {error.reason}: {(error.body or '')[:200]}"
    except OSError as error:  # urllib3's connection errors
        return f"pods/log failed: {error}"
    return None


def restart_count(kubeconfig: str, namespace: str, name: str) -> int:
    """restartCount of a pod's first container (0 before the kubelet reported it)."""
    pod = kubectl_json(kubeconfig, "get", "pod", name, "-n", namespace)
    statuses = pod["status"].get("containerStatuses") or [{}]
    return int(statuses[0].get("restartCount", 0))


def rolled_out_deployment(
    kubeconfig: str,
    namespace: str,
    name: str,
    *,
    image: str = "nginx:1.25",
    replicas: int = 1,
    port: int | None = None,
) -> str:
    """`kubectl create deployment` and wait until it has rolled out; with `port`, also expose it
    as a Service of the same name. Returns the name."""
    options = [f"--image={image}", f"--replicas={replicas}"]
    if port is not None:
        options.append(f"--port={port}")
    kubectl(kubeconfig, "-n", namespace, "create", "deployment", name, *options)
    kubectl(kubeconfig, "-n", namespace, "rollout", "status", f"deploy/{name}", "--timeout=60s")
    if port is not None:
        kubectl(kubeconfig, "-n", namespace, "expose", f"deploy/{name}", f"--port={port}")
    return name
