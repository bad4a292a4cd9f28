"""Watches: the kubernetes client's Watch and kubectl get --watch."""

from __future__ import annotations

import subprocess
import threading
from typing import Any

import pytest
from sandbox_helpers import KUBECTL, wait_for

pytestmark = pytest.mark.k8s


def test_watch_streams_added_modified_deleted(api_client: Any, namespace: str) -> None:
    from kubernetes import client, watch  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    events: list[tuple[str, str, dict | None]] = []
    stream = watch.Watch()

    def collect() -> None:
        for event in stream.stream(
            core.list_namespaced_config_map, namespace, resource_version=start, timeout_seconds=20
        ):
            # Only "w": the namespace controller may add kube-root-ca.crt after `start`, as a
            # real cluster's does, and the watch rightly reports it too.
            if event["object"].metadata.name != "w":
                continue
            events.append((event["type"], event["object"].metadata.name, event["object"].data))
            if event["type"] == "DELETED":
                stream.stop()

    reader = threading.Thread(target=collect)
    reader.start()
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "w"}, "data": {"a": "1"}})
    core.patch_namespaced_config_map("w", namespace, {"data": {"b": "2"}})
    core.delete_namespaced_config_map("w", namespace)
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert events == [
        ("ADDED", "w", {"a": "1"}),
        ("MODIFIED", "w", {"a": "1", "b": "2"}),
        ("DELETED", "w", {"a": "1", "b": "2"}),
    ]


def test_watch_ends_after_timeout_seconds(api_client: Any, namespace: str) -> None:
    from kubernetes import client, watch  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    # Nothing changes, so the stream must end by itself when the server's timeout passes.
    assert (
        list(
            watch.Watch().stream(
                core.list_namespaced_config_map,
                namespace,
                resource_version=start,
                timeout_seconds=1,
            )
        )
        == []
    )


def test_kubectl_get_watch_prints_new_objects(
    kubeconfig: str, namespace: str, api_client: Any
) -> None:
    from kubernetes import client  # noqa: PLC0415

    with subprocess.Popen(
        [
            KUBECTL,
            "--kubeconfig",
            kubeconfig,
            "-n",
            namespace,
            "get",
            "configmaps",
            "--watch",
            "--request-timeout=30s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as watcher:
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(watcher.stdout.readline, "")))
        reader.start()
        wait_for(lambda: any("kube-root-ca.crt" in line for line in lines), "the initial list")
        client.CoreV1Api(api_client).create_namespaced_config_map(
            namespace, {"metadata": {"name": "watched"}}
        )
        wait_for(lambda: any(line.startswith("watched ") for line in lines), "the new object")
        watcher.terminate()
        reader.join(timeout=10)
    assert lines[0].split() == ["NAME", "DATA", "AGE"]


def test_selector_watch_reports_objects_entering_and_leaving(
    api_client: Any, namespace: str
) -> None:
    from kubernetes import client, watch  # noqa: PLC0415

    core = client.CoreV1Api(api_client)
    start = core.list_namespaced_config_map(namespace).metadata.resource_version
    events: list[tuple[str, str]] = []
    stream = watch.Watch()

    def collect() -> None:
        for event in stream.stream(
            core.list_namespaced_config_map,
            namespace,
            label_selector="watched=yes",
            resource_version=start,
            timeout_seconds=20,
        ):
            events.append((event["type"], event["object"].metadata.name))
            if len(events) == 3:
                stream.stop()

    reader = threading.Thread(target=collect)
    reader.start()
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "sel"}})
    core.patch_namespaced_config_map("sel", namespace, {"metadata": {"labels": {"watched": "yes"}}})
    core.patch_namespaced_config_map("sel", namespace, {"data": {"a": "1"}})
    core.patch_namespaced_config_map("sel", namespace, {"metadata": {"labels": {"watched": None}}})
    reader.join(timeout=30)
    assert not reader.is_alive()
    assert events == [("ADDED", "sel"), ("MODIFIED", "sel"), ("DELETED", "sel")]
