"""The collection builds into a tarball that ships runtime content only, and installs."""

import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DEV_ONLY = ("tests/", "src/", "bench/", "tools/", ".ci/", "Makefile", "pyproject.toml", ".venv")


def _version() -> str:
    for line in (REPO_ROOT / "galaxy.yml").read_text().splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    raise AssertionError("galaxy.yml has no version")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "build", "--output-path", out, REPO_ROOT],
        check=True,
        capture_output=True,
    )
    return out / f"sre-runbooks-{_version()}.tar.gz"


def test_tarball_ships_runtime_content_without_development_files(tarball):
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
        manifest = json.load(archive.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["namespace"] == "sre"
    assert manifest["collection_info"]["name"] == "runbooks"
    assert manifest["collection_info"]["version"] == _version()
    assert "kubernetes.core" in manifest["collection_info"]["dependencies"]
    assert "meta/runtime.yml" in names
    assert any(name.startswith("prometheus/rules/") for name in names)
    shipped_dev_files = [n for n in names if n.startswith(DEV_ONLY)]
    assert shipped_dev_files == []


def test_tarball_ships_everything_the_launcher_reads(tarball):
    """Playbooks, catalog, roles, alerting rules and the sandbox inventory: `runbook` reads them
    from the installed collection. The sandbox's generated inventory vars stay out."""
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    read = ["playbooks/remediate.yml", "playbooks/vars/alert_catalog.yml"]
    read += ["inventories/sandbox/hosts.yml", *_files("roles"), *_files("prometheus/rules")]
    assert sorted(set(read) - names) == []
    assert "inventories/sandbox/group_vars/all/sandbox.yml" not in names


def _files(directory: str) -> list[str]:
    return [
        str(path.relative_to(REPO_ROOT))
        for path in (REPO_ROOT / directory).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    ]


def test_tarball_installs_and_ansible_finds_the_collection(tarball, tmp_path):
    target = tmp_path / "collections"
    # A user's machine: no development ansible.cfg, only the install path.
    env = {"PATH": str(BIN), "HOME": str(tmp_path), "ANSIBLE_COLLECTIONS_PATH": str(target)}
    subprocess.run(
        [BIN / "ansible-galaxy", "collection", "install", "--no-deps", "-p", target, tarball],
        check=True,
        capture_output=True,
        cwd=tmp_path,
        env=env,
    )
    installed = target / "ansible_collections" / "sre" / "runbooks"
    assert (installed / "galaxy.yml").exists() is False  # built collections carry MANIFEST.json
    assert json.loads((installed / "MANIFEST.json").read_text())["collection_info"]["version"] == (
        _version()
    )
    listing = subprocess.run(
        [
            BIN / "ansible-galaxy",
            "collection",
            "list",
            "sre.runbooks",
            "-p",
            target,
            "--format",
            "json",
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    found = json.loads(listing.stdout)
    assert found[str(target / "ansible_collections")]["sre.runbooks"]["version"] == _version()
    shutil.rmtree(target)
