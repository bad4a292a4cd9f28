"""Fixtures: real Prometheus and Alertmanager processes on 127.0.0.1, stopped at teardown."""

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.plugins.loader import init_plugin_loader

from sre_runbooks.monitoring import (
    AlertmanagerServer,
    MetricsTarget,
    PrometheusServer,
    backfill,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = REPO_ROOT / "prometheus" / "rules"
# Unit tests import plugins as ansible_collections.sre.runbooks.*; `make setup` links the
# repository there (.collections/ansible_collections/sre/runbooks).
sys.path.insert(0, str(REPO_ROOT / ".collections"))
# Ansible's collection loader, installed before anything imports ansible_collections, so that a
# templar in a unit test finds the collection's filters as a playbook does.
init_plugin_loader([str(REPO_ROOT / ".collections")])

PrometheusFactory = Callable[..., PrometheusServer]


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertmanagerServer]:
    """One Alertmanager for the session (tests scope their silences by unique matchers)."""
    with AlertmanagerServer(tmp_path_factory.mktemp("alertmanager")) as server:
        yield server


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[PrometheusFactory]:
    """Start Prometheus servers for one test; ``series=`` backfills OpenMetrics text first."""
    servers: list[PrometheusServer] = []

    def start(*, series: str | None = None, **options: Any) -> PrometheusServer:
        server = PrometheusServer(tmp_path / f"prometheus-{len(servers)}", **options)
        servers.append(server)
        if series:
            backfill(series, server.data_dir)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def metrics_target() -> Iterator[MetricsTarget]:
    """An exposition endpoint whose text the test sets while Prometheus scrapes it."""
    with MetricsTarget() as target:
        yield target


def run_ansible(
    tool: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run an Ansible command line tool of the venv (``ansible``, ``ansible-playbook``, ...) as a
    user would in this repository: its ansible.cfg, localhost with the venv's Python."""
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        **(env or {}),
    }
    if tool in {"ansible", "ansible-playbook"}:
        args = (*args, "-e", "ansible_python_interpreter={{ ansible_playbook_python }}")
    return subprocess.run(
        [str(Path(sys.executable).parent / tool), *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO_ROOT,
        check=False,
    )


@pytest.fixture(scope="session")
def ansible_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``run_ansible`` for tests that need a whole playbook run or a tool's text output."""
    return run_ansible


@pytest.fixture
def ansible_module() -> Callable[..., dict[str, Any]]:
    """Run one module as a user would, ``ansible localhost -m NAME``, and return its result.

    ``check=True`` and ``diff=True`` add --check and --diff; ``env`` adds environment variables.
    The result is the module's JSON result as the json callback reports it.
    """

    def run(
        name: str,
        args: dict[str, Any],
        *,
        check: bool = False,
        diff: bool = False,
        env: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        options = ["-m", name, *(["-a", json.dumps(args)] if args else [])]
        options += ["--check"] * check + ["--diff"] * diff
        json_output = {
            "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
            "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        }
        completed = run_ansible(
            "ansible", "localhost", *options, env={**json_output, **(env or {})}
        )
        try:
            output = json.loads(completed.stdout)
        except ValueError as error:
            raise AssertionError(
                f"ansible printed no JSON (rc {completed.returncode}):\n"
                f"{completed.stdout}\n{completed.stderr}"
            ) from error
        return dict(output["plays"][0]["tasks"][0]["hosts"]["localhost"])

    return run


@pytest.fixture(scope="session")
def fake_role() -> Callable[[Path, str, Iterable[str]], None]:
    """Writes an alert role that the launcher counts as remediating ``systems``."""

    def write(roles_dir: Path, role: str, systems: Iterable[str]) -> None:
        tasks = roles_dir / role / "tasks"
        tasks.mkdir(parents=True, exist_ok=True)
        includes = [
            {
                "ansible.builtin.include_role": {"name": "sre.runbooks.remediation"},
                "vars": {"remediation_system": system},
            }
            for system in systems
        ]
        (tasks / "main.yml").write_text(yaml.safe_dump(includes))

    return write
