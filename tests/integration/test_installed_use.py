"""Installed use, from the built artifacts, as a user does it on a machine without the repository.

The launcher's wheel goes into a fresh virtual environment with pip (the pins of requirements.txt
as constraints), the collection's tarball into an empty collections path with ansible-galaxy
(kubernetes.core beside it, from the copy the `ansible` package of requirements.txt bundles), and
every command runs outside the repository with a home of its own: `runbook list`, `runbook
explain HighErrorRate`, the errors without the collection and without the sandbox, then, with the
sandbox's own wheel installed and its sandbox up, `runbook run HighErrorRate --check`.

One test with several steps: building, installing and the sandbox are the cost (one minute on a
quiet two-core machine, up to four on a busy one, most of it building the wheels and pip
fetching the launcher's dependencies).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
DEV_BIN = Path(sys.executable).parent

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1200)]


def _sh(*args: str | Path, env: dict[str, str] | None = None, cwd: Path | None = None, **kw: Any):
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
        timeout=kw.pop("timeout", 600),
        **kw,
    )


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


class User:
    """A user's shell: the fresh venv first on PATH, a home of their own, no repository settings."""

    def __init__(self, root: Path, venv: Path, collections: Path) -> None:
        self.venv = venv
        self.collections = collections
        self.cwd = root / "work"
        self.cwd.mkdir()
        (root / "home").mkdir()
        path = [p for p in os.environ["PATH"].split(os.pathsep) if Path(p) != DEV_BIN]
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("ANSIBLE_", "SRE_RUNBOOKS_", "K8S_AUTH_", "PYTEST_"))
            and key not in {"VIRTUAL_ENV", "PYTHONPATH", "KUBECONFIG", "XDG_STATE_HOME"}
        }
        self.env.update(
            PATH=os.pathsep.join([str(venv / "bin"), *path]),
            HOME=str(root / "home"),
            XDG_STATE_HOME=str(root / "state"),
            ANSIBLE_COLLECTIONS_PATH=str(collections),
        )

    def run(self, *args: str | Path, **env: str) -> subprocess.CompletedProcess[str]:
        return _sh(*args, env={**self.env, **env}, cwd=self.cwd)

    def runbook(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return self.run(self.venv / "bin" / "runbook", *args, **env)

    def pip_install(self, wheel: Path) -> None:
        constraints = REPO / "requirements.txt"
        _ok(
            self.run(
                self.venv / "bin" / "python", "-m", "pip", "install", "-q", "-c", constraints, wheel
            )
        )


def _only(directory: Path, pattern: str) -> Path:
    (found,) = directory.glob(pattern)
    return found


def _bundled_kubernetes_core() -> Path:
    """kubernetes.core as the `ansible` package of requirements.txt ships it."""
    path = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections" / "kubernetes" / "core"
    assert (path / "MANIFEST.json").is_file(), f"no kubernetes.core in {path}: run `make setup`"
    return path


def _cluster_state(kubeconfig: str) -> dict[str, Any]:
    """What --check must leave alone: nimify-api's revision, generation and template, and the
    Events sre.runbooks reported in its namespace."""
    from kubernetes import client, config  # noqa: PLC0415  (heavy import)

    api = config.new_client_from_config(config_file=kubeconfig)
    try:
        deployment = client.AppsV1Api(api).read_namespaced_deployment("nimify-api", "nimify-system")
        # Raw JSON: the client's models refuse Events without an eventTime.
        events = json.loads(
            client.EventsV1Api(api)
            .list_namespaced_event("nimify-system", _preload_content=False)
            .data
        )["items"]
        return {
            "revision": deployment.metadata.annotations["deployment.kubernetes.io/revision"],
            "generation": deployment.metadata.generation,
            "template": api.sanitize_for_serialization(deployment.spec.template),
            "events": sorted(
                e["metadata"]["name"]
                for e in events
                if e.get("reportingController") == "sre.runbooks"
            ),
        }
    finally:
        api.close()


@pytest.fixture
def sandbox_down() -> Iterator[list[User]]:
    """Stops the sandbox a test started, whatever happened."""
    users: list[User] = []
    yield users
    for user in users:
        user.runbook("sandbox", "down")


def _install(tmp_path: Path) -> tuple[User, Path]:
    """Build the artifacts, pip-install the launcher into a fresh venv and galaxy-install the
    collection into an empty collections path; the user, and the sandbox's wheel for later."""
    dist = tmp_path / "dist"
    _ok(_sh(REPO / "tools" / "build-dists", dist, timeout=900))
    venv = tmp_path / "venv"
    _ok(_sh(sys.executable, "-m", "venv", venv))
    user = User(tmp_path, venv, tmp_path / "collections")
    user.pip_install(_only(dist, "sre_runbooks-*.whl"))
    # The launcher's wheel ships no simulator.
    assert user.run(venv / "bin" / "python", "-c", "import sre_runbooks_sandbox").returncode == 1
    galaxy = venv / "bin" / "ansible-galaxy"
    tarball = _only(dist, "sre-runbooks-*.tar.gz")
    kubernetes_core = _bundled_kubernetes_core()
    install = (galaxy, "collection", "install", "--offline", "-p", user.collections)
    _ok(user.run(*install, kubernetes_core, tarball))  # Galaxy is not asked
    return user, _only(dist, "sre_runbooks_sandbox-*.whl")


def _list_and_explain(user: User) -> None:
    listing = _ok(user.runbook("list"))
    row = next(line for line in listing.stdout.splitlines() if line.startswith("HighErrorRate "))
    assert row.split()[1:3] == ["nimify", "critical"]
    assert "high_error_rate" in row.split()
    assert "yes" in row.split()

    explained = _ok(user.runbook("explain", "HighErrorRate")).stdout
    assert "role:        high_error_rate" in explained
    assert "mitigations, in order (roles/high_error_rate/defaults/main.yml):" in explained
    assert "rollback (rollout_undo)" in explained
    assert "prometheus/rules/" in explained


def _where_it_looks(user: User, empty: Path) -> None:
    """Nowhere to be found: the error says where the launcher looked and how to tell it; the
    option and the variable tell it."""
    missing = user.runbook("list", ANSIBLE_COLLECTIONS_PATH=str(empty))
    assert missing.returncode == 2
    assert "the sre.runbooks collection was not found. Looked in:" in missing.stderr
    assert f"{empty}: Ansible's collections path (env: ANSIBLE_COLLECTIONS_PATH)" in (
        missing.stderr
    )
    assert "--collection-path PATH or SRE_RUNBOOKS_COLLECTION_PATH=PATH" in missing.stderr

    told = user.runbook(
        "list", "--collection-path", str(user.collections), ANSIBLE_COLLECTIONS_PATH=str(empty)
    )
    assert "HighErrorRate" in _ok(told).stdout
    installed = user.collections / "ansible_collections" / "sre" / "runbooks"
    told = user.runbook(
        "explain",
        "HighErrorRate",
        ANSIBLE_COLLECTIONS_PATH=str(empty),
        SRE_RUNBOOKS_COLLECTION_PATH=str(installed),
    )
    assert "role:        high_error_rate" in _ok(told).stdout


def test_pip_and_galaxy_installs_list_explain_and_check_a_remediation(
    tmp_path: Path, sandbox_down: list[User]
) -> None:
    user, sandbox_wheel = _install(tmp_path)
    _list_and_explain(user)
    (tmp_path / "empty").mkdir()
    _where_it_looks(user, tmp_path / "empty")

    # Without an inventory, a run needs the sandbox, which is not installed yet.
    no_sandbox = user.runbook("run", "HighErrorRate", "--check")
    assert no_sandbox.returncode == 2
    assert "the sandbox is not installed" in no_sandbox.stderr
    assert "pip install sre-runbooks-sandbox" in no_sandbox.stderr

    user.pip_install(sandbox_wheel)
    sandbox_down.append(user)
    state = json.loads(_ok(user.runbook("sandbox", "up", "--json")).stdout)
    _ok(user.runbook("sandbox", "inject", "HighErrorRate", "--wait"))
    before = _cluster_state(state["kubeconfig"])

    checked = user.runbook("run", "HighErrorRate", "--check", "--json")
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert f"target: sandbox ({state['kubeconfig']})" in checked.stderr
    (result,) = json.loads(checked.stdout)
    assert result["check_mode"] is True
    assert result["outcome"] == "planned"
    report = result["reports"][0]["report"]
    assert [(d["action"], d["status"]) for d in report["decisions"]] == [("rollback", "planned")]
    assert _cluster_state(state["kubeconfig"]) == before
    # The playbook that ran is the installed collection's.
    command = json.loads(_only(Path(result["run_dir"]), "artifacts/*/command").read_text())
    playbook = user.collections / "ansible_collections/sre/runbooks/playbooks/remediate.yml"
    assert command["command"][-1] == str(playbook)
