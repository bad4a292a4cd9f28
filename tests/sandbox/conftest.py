"""Fixtures for the sandbox API server tests.

Kubernetes-facing tests get a kubeconfig: the simulator's, started once per session, or, when
SRE_RUNBOOKS_TEST_KUBECONFIG is set, that cluster's (the same tests then check the simulator's
assumptions against a real API server). Each test module works in its own namespace.
"""

from __future__ import annotations

import os
import secrets
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from scenario_helpers import runbook, sandbox_up


@pytest.fixture(scope="session")
def kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Path of a kubeconfig for the cluster under test."""
    external = os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG")
    if external:
        yield external
        return
    from sre_runbooks_sandbox.apiserver import start_apiserver  # noqa: PLC0415  (not needed for a real cluster)

    path = tmp_path_factory.mktemp("sandbox") / "kubeconfig"
    with start_apiserver(kubeconfig=path) as server:
        assert server.kubeconfig == path
        yield str(path)


def _api_client(kubeconfig: str) -> Iterator[Any]:
    from kubernetes import config  # noqa: PLC0415  (heavy import, only for k8s tests)

    client = config.new_client_from_config(config_file=kubeconfig)
    yield client
    client.close()


def _module_namespace(api_client: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    from kubernetes import client  # noqa: PLC0415

    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_").replace("_", "-")
    name = f"sbx-{module[:30]}-{secrets.token_hex(3)}"
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": name}})
    yield name
    core.delete_namespace(name)


@pytest.fixture(scope="module")
def api_client(kubeconfig: str) -> Iterator[Any]:
    """A `kubernetes` ApiClient for the cluster."""
    yield from _api_client(kubeconfig)


@pytest.fixture(scope="module")
def namespace(api_client: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for the test module, deleted afterwards."""
    yield from _module_namespace(api_client, request)


@pytest.fixture(scope="session")
def workloads_kubeconfig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A kubeconfig for a second simulator whose pods run `FakeWorkloads`.

    Tests of logs, exec, proxy, metrics and container states assert on what the simulated
    applications answer, which a real cluster's containers do not; they skip there.
    """
    if os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG"):
        pytest.skip("needs the simulator's test workloads (SRE_RUNBOOKS_TEST_KUBECONFIG is set)")
    from fake_workloads import FakeWorkloads  # noqa: PLC0415  (only the simulator uses it)

    from sre_runbooks_sandbox.apiserver import start_apiserver  # noqa: PLC0415  (as above)

    path = tmp_path_factory.mktemp("sandbox-workloads") / "kubeconfig"
    with start_apiserver(kubeconfig=path, workloads=FakeWorkloads()):
        yield str(path)


@pytest.fixture(scope="module")
def workloads_client(workloads_kubeconfig: str) -> Iterator[Any]:
    """A `kubernetes` ApiClient for the simulator with the test workloads."""
    yield from _api_client(workloads_kubeconfig)


@pytest.fixture(scope="module")
def workloads_namespace(workloads_client: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace on the simulator with the test workloads, deleted afterwards."""
    yield from _module_namespace(workloads_client, request)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One running sandbox for the module; every fault is cleared between tests."""
    state_dir = tmp_path_factory.mktemp("sandbox-state")
    # The sandbox's processes outlive the command that started them, by design. A test run
    # stopped with SIGTERM (e.g. by `timeout`) would skip this fixture's teardown and leave them
    # running, so SIGTERM is turned into KeyboardInterrupt, which pytest tears down after.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        state = sandbox_up(state_dir)
        state["state_dir_path"] = state_dir
        yield state
    finally:
        runbook("sandbox", "down", "--state-dir", str(state_dir))
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
