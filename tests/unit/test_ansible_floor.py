"""The collection claims the ansible-core it is tested with, and nothing older.

requirements.txt pins the one ansible-core every suite runs on; meta/runtime.yml's
requires_ansible, pyproject.toml's ansible-core dependency and every role's
min_ansible_version must start at that pin's minor version.
"""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def pinned() -> Version:
    """The ansible-core version requirements.txt pins."""
    (pin,) = re.findall(
        r"^ansible-core==(\S+)\s*$", (ROOT / "requirements.txt").read_text(), re.MULTILINE
    )
    return Version(pin)


def floor(specifier: SpecifierSet) -> Version:
    """The lowest version a specifier set allows by its >= clause (it must have exactly one)."""
    (lowest,) = [Version(item.version) for item in specifier if item.operator == ">="]
    return lowest


def test_requires_ansible_starts_at_the_tested_minor_version():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())
    specifier = SpecifierSet(runtime["requires_ansible"])
    assert pinned() in specifier
    assert floor(specifier).release[:2] == pinned().release[:2], runtime["requires_ansible"]


def test_pyproject_requires_the_same_ansible_core_floor():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    (requirement,) = [
        Requirement(item)
        for item in project["dependencies"]
        if Requirement(item).name == "ansible-core"
    ]
    assert pinned() in requirement.specifier
    assert floor(requirement.specifier).release[:2] == pinned().release[:2], str(requirement)


def test_every_role_claims_the_same_minimum():
    minor = ".".join(str(part) for part in pinned().release[:2])
    metas = sorted((ROOT / "roles").glob("*/meta/main.yml"))
    assert metas
    for meta in metas:
        info = yaml.safe_load(meta.read_text())["galaxy_info"]
        assert str(info["min_ansible_version"]) == minor, meta
