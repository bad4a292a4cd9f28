"""The launcher (sre-runbooks) and the sandbox (sre-runbooks-sandbox) are two distributions: the
launcher runs remediations without the simulator, imports it only where the sandbox is the
target, and says how to install it; the sandbox takes nothing from the collection's plugins."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sre_runbooks import cli, sandbox_install
from sre_runbooks import run as runs

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "src" / "sre_runbooks"
SANDBOX_PROJECT = REPO / "sandbox"
SANDBOX = SANDBOX_PROJECT / "src" / "sre_runbooks_sandbox"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _in_the_sandbox(module: str) -> bool:
    return module.split(".", maxsplit=1)[0] == sandbox_install.PACKAGE


def _galaxy_version() -> str:
    text = (REPO / "galaxy.yml").read_text()
    return re.search(r"^version:\s*['\"]?([^'\"\s]+)", text, re.MULTILINE).group(1)


def test_the_sandbox_distribution_follows_galaxy_s_version_and_the_launcher() -> None:
    project = tomllib.loads((SANDBOX_PROJECT / "pyproject.toml").read_text())["project"]
    assert project["name"] == sandbox_install.DISTRIBUTION
    assert project["version"] == _galaxy_version()
    assert f"sre-runbooks=={_galaxy_version()}" in project["dependencies"]


def test_the_launcher_and_the_sandbox_are_packages_of_their_own() -> None:
    assert sorted(p.name for p in (REPO / "src").iterdir() if (p / "__init__.py").is_file()) == [
        "sre_runbooks"
    ]
    assert not (PACKAGE / "sandbox").exists()
    assert (SANDBOX / "__init__.py").is_file()
    assert SANDBOX.name == sandbox_install.PACKAGE


def test_only_sandbox_install_names_the_sandbox() -> None:
    launcher = list(PACKAGE.rglob("*.py"))
    offenders = {
        str(path.relative_to(REPO)): sorted(n for n in _imports(path) if _in_the_sandbox(n))
        for path in launcher
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_sandbox_takes_nothing_from_the_collection_s_plugins() -> None:
    """It serves the cluster the plugins talk to; it never runs them (nor Ansible)."""
    allowed_own = ("sre_runbooks_sandbox", "sre_runbooks.monitoring", "sre_runbooks.collection")
    offenders = {}
    for path in SANDBOX.rglob("*.py"):
        names = _imports(path)
        bad = [n for n in names if n.split(".")[0] in {"ansible", "ansible_collections", "plugins"}]
        bad += [
            n
            for n in names
            if n.startswith("sre_runbooks")
            and n not in {"sre_runbooks", "sre_runbooks.collection"}
            and not n.startswith(allowed_own)
        ]
        if bad:
            offenders[str(path.relative_to(REPO))] = sorted(bad)
    assert offenders == {}


def test_listing_explaining_and_planning_import_no_simulator(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from sre_runbooks import cli\n"
        "cli.main(['list'])\n"
        "cli.main(['explain', 'HighErrorRate'])\n"
        f"cli.main(['run', 'HighErrorRate', '--inventory', {str(tmp_path / 'none')!r}])\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] == {sandbox_install.PACKAGE!r}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.splitlines()[-1] == "[]"


@pytest.fixture
def no_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    """The launcher installed without the sandbox."""
    monkeypatch.setattr(sandbox_install, "PACKAGE", "sre_runbooks_not_installed_sandbox")


@pytest.mark.usefixtures("no_sandbox")
def test_without_the_sandbox_the_launcher_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["sandbox", "status"]) == cli.EXIT_FAILED
    assert capsys.readouterr().err == (
        "runbook: the sandbox is not installed (it is a separate package, sre-runbooks-sandbox): "
        "install it with `pip install sre-runbooks-sandbox` (from a checkout: `pip install "
        "./sandbox`, or the wheel `make build` writes into build/)\n"
    )
    with pytest.raises(runs.TargetError) as error:
        runs.resolve_target(None)
    assert str(error.value).startswith(
        "no inventory given (--inventory PATH), and the sandbox is not installed"
    )
    assert cli.main(["run", "HighErrorRate", "--check"]) == cli.EXIT_BAD_INPUT
    assert "pip install sre-runbooks-sandbox" in capsys.readouterr().err


def test_a_sandbox_missing_a_dependency_is_not_called_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """An installed sandbox whose own import fails shows that error, not the install hint."""
    package = tmp_path / "broken_sandbox"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "control.py").write_text("import no_such_dependency_of_the_sandbox\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sandbox_install, "PACKAGE", "broken_sandbox")
    with pytest.raises(ModuleNotFoundError, match="no_such_dependency_of_the_sandbox"):
        sandbox_install.control()
