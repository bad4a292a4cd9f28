"""Where the launcher finds the collection, what it says when it finds none, and how a run points
Ansible at the same copy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sre_runbooks import cli, collection

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    collection.use(None)
    yield
    collection.use(None)


def _installed(collections: Path, namespace: str = "sre", version: str = "9.8.7") -> Path:
    """An installed copy as ansible-galaxy lays it out (MANIFEST.json, no galaxy.yml)."""
    root = collections / "ansible_collections" / namespace / "runbooks"
    (root / "playbooks").mkdir(parents=True)
    info = {"namespace": namespace, "name": "runbooks", "version": version}
    (root / "MANIFEST.json").write_text(json.dumps({"collection_info": info}))
    return root


@pytest.fixture
def away_from_the_checkout(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[Path]:
    """The launcher as pip installs it: no checkout around it; Ansible's paths are the list."""
    monkeypatch.setattr(collection, "_CHECKOUT", tmp_path / "site-packages")
    monkeypatch.delenv(collection.ENV, raising=False)
    paths: list[Path] = []
    monkeypatch.setattr(
        collection,
        "ansible_collections_paths",
        lambda: (paths, "env: ANSIBLE_COLLECTIONS_PATH", False),
    )
    return paths


def test_a_checkout_finds_itself() -> None:
    found = collection.locate()
    assert found.root == REPO
    assert found.found_by == "the checkout the launcher runs from"
    assert found.checkout


@pytest.mark.parametrize("given", ["collections", "collections/ansible_collections", "root"])
def test_the_option_takes_a_collections_directory_or_the_collection(
    tmp_path: Path, given: str
) -> None:
    root = _installed(tmp_path / "collections")
    path = root if given == "root" else tmp_path / given
    found = collection.locate(str(path))
    assert found.root == root
    assert found.found_by == "--collection-path"
    assert found.version == "9.8.7"
    assert not found.checkout
    assert found.collections_dir() == tmp_path / "collections"


def test_the_variable_tells_it_when_the_option_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _installed(tmp_path / "collections")
    monkeypatch.setenv(collection.ENV, str(tmp_path / "collections"))
    assert collection.locate().root == root
    assert collection.locate().found_by == f"${collection.ENV}"
    assert collection.locate(str(REPO)).root == REPO  # the option first


def test_another_collection_is_not_taken_for_it(tmp_path: Path) -> None:
    _installed(tmp_path / "collections", namespace="acme")
    with pytest.raises(collection.CollectionNotFoundError) as error:
        collection.locate(str(tmp_path / "collections"))
    assert str(error.value).startswith(
        f"--collection-path {tmp_path / 'collections'} holds no sre.runbooks collection"
    )
    with pytest.raises(collection.CollectionNotFoundError, match="does not exist"):
        collection.locate(str(tmp_path / "nowhere"))


def test_installed_launcher_looks_where_ansible_does(
    tmp_path: Path, away_from_the_checkout: list[Path]
) -> None:
    root = _installed(tmp_path / "second")
    away_from_the_checkout.extend([tmp_path / "first", tmp_path / "second"])
    found = collection.locate()
    assert found.root == root
    assert found.found_by == "Ansible's collections path (env: ANSIBLE_COLLECTIONS_PATH)"


def test_nowhere_to_be_found_says_where_it_looked(
    tmp_path: Path, away_from_the_checkout: list[Path]
) -> None:
    away_from_the_checkout.extend([tmp_path / "first", tmp_path / "second"])
    with pytest.raises(collection.CollectionNotFoundError) as error:
        collection.locate()
    assert str(error.value).splitlines() == [
        "the sre.runbooks collection was not found. Looked in:",
        "  --collection-path: not given",
        f"  ${collection.ENV}: not set",
        f"  {tmp_path / 'site-packages'}: the launcher does not run from a checkout of the "
        "collection",
        f"  {tmp_path / 'first'}: Ansible's collections path (env: ANSIBLE_COLLECTIONS_PATH)",
        f"  {tmp_path / 'second'}: Ansible's collections path (env: ANSIBLE_COLLECTIONS_PATH)",
        "Install it (`ansible-galaxy collection install sre-runbooks-<version>.tar.gz`), or say "
        f"where it is with --collection-path PATH or {collection.ENV}=PATH.",
    ]


def test_the_command_line_reports_it_and_exits_2(
    tmp_path: Path, away_from_the_checkout: list[Path], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["list"]) == cli.EXIT_BAD_INPUT
    assert "the sre.runbooks collection was not found. Looked in:" in capsys.readouterr().err
    for argv in (
        ["--collection-path", str(tmp_path / "nowhere"), "explain", "HighErrorRate"],
        ["explain", "HighErrorRate", "--collection-path", str(tmp_path / "nowhere")],
    ):
        assert cli.main(argv) == cli.EXIT_BAD_INPUT
        assert f"--collection-path {tmp_path / 'nowhere'} does not exist" in capsys.readouterr().err
    # Commands that do not read the collection do without it.
    assert cli.main(["monitoring", "status", "--state-dir", str(tmp_path / "m")]) == cli.EXIT_FAILED


def test_a_run_points_ansible_at_the_installed_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, away_from_the_checkout: list[Path]
) -> None:
    _installed(tmp_path / "collections")
    away_from_the_checkout.extend([tmp_path / "collections", tmp_path / "other"])
    monkeypatch.delenv("ANSIBLE_CONFIG", raising=False)
    config = tmp_path / "ansible.cfg"
    monkeypatch.setattr(collection, "ansible_config_file", lambda: config)
    env = collection.ansible_env(tmp_path / "run")
    assert env == {
        "ANSIBLE_CONFIG": str(config),  # the one Ansible finds from the user's directory
        "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(
            [str(tmp_path / "collections"), str(tmp_path / "other")]
        ),
    }


def test_a_copy_not_laid_out_for_ansible_is_linked_in_the_run_directory(
    tmp_path: Path, away_from_the_checkout: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _installed(tmp_path / "collections")
    plain = tmp_path / "unpacked"
    root.rename(plain)
    monkeypatch.setattr(collection, "ansible_config_file", lambda: None)
    collection.use(str(plain))
    env = collection.ansible_env(tmp_path / "run")
    first = Path(env["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0])
    assert first == tmp_path / "run" / "collections"
    assert (first / "ansible_collections" / "sre" / "runbooks").resolve() == plain


def test_the_checkout_runs_with_its_own_configuration() -> None:
    assert collection.ansible_env() == {
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
    }


def test_ansible_s_own_configuration_gives_the_paths(tmp_path: Path) -> None:
    """ansible.cfg's collections_path, relative to the file, as ansible-core reads it."""
    (tmp_path / "ansible.cfg").write_text("[defaults]\ncollections_path = ./mine:/elsewhere\n")
    code = (
        "from sre_runbooks import collection\n"
        "paths, origin, scan = collection.ansible_collections_paths()\n"
        "print([str(p) for p in paths], origin, collection.ansible_config_file())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "ANSIBLE_CONFIG": str(tmp_path / "ansible.cfg")},
        capture_output=True,
        text=True,
        check=True,
    )
    config = tmp_path / "ansible.cfg"
    assert done.stdout.split("] ", 1) == [
        f"[{str(tmp_path / 'mine')!r}, '/elsewhere'",
        f"{config} {config}\n",
    ]
