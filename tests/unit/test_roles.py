"""The alert roles agree with their documentation, their argument specs and the catalog."""

import re
from pathlib import Path

import pytest
import yaml
from ansible_collections.sre.runbooks.plugins.plugin_utils._decide import EXECUTORS

from sre_runbooks.catalog import load_catalog

COLLECTION_ROOT = Path(__file__).resolve().parents[2]  # the repository

ROLES_DIR = COLLECTION_ROOT / "roles"
CONTRACT = "remediation"
# Templated only once the findings exist, so role argument validation must not template them.
LAZY_SUFFIXES = ("_queries", "_investigation", "_rules", "_probes")
ALERT_ROLES = sorted(p.name for p in ROLES_DIR.iterdir() if p.is_dir() and p.name != CONTRACT)


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _defaults(role: str) -> dict[str, object]:
    return _yaml(ROLES_DIR / role / "defaults" / "main.yml") or {}


def _spec_options(role: str) -> dict[str, object]:
    specs = _yaml(ROLES_DIR / role / "meta" / "argument_specs.yml")
    return specs["argument_specs"]["main"].get("options") or {}


def _catalog() -> list[dict[str, object]]:
    """The catalog's entries with their rules' identity (role, severity), as resolved."""
    return [entry.as_dict() for entry in load_catalog()]


def test_every_seed_001_alert_has_its_role():
    wanted = {entry["role"] for entry in _catalog() if entry["seed"] == "001"}
    assert wanted == set(ALERT_ROLES)


@pytest.mark.parametrize("role", ALERT_ROLES)
def test_role_variables_are_prefixed_with_the_role_name(role):
    for name in _defaults(role):
        assert name.startswith(role + "_"), name


@pytest.mark.parametrize("role", ALERT_ROLES)
def test_argument_specs_list_every_default_that_is_not_lazy(role):
    options = _spec_options(role)
    defaults = _defaults(role)
    # Lazy: templated from the findings, directly or through another lazy default.
    lazy = {n for n, v in defaults.items() if n.endswith(LAZY_SUFFIXES) or "findings." in str(v)}
    while grown := {
        n for n, v in defaults.items() if n not in lazy and any(other in str(v) for other in lazy)
    }:
        lazy |= grown
    for name in defaults:
        if name not in lazy:
            assert name in options, f"{role}: {name} missing from meta/argument_specs.yml"
    for name in options:
        assert name in _defaults(role), f"{role}: {name} documented but not in defaults"


@pytest.mark.parametrize("role", [*ALERT_ROLES, CONTRACT])
def test_readme_lists_every_variable(role):
    readme = (ROLES_DIR / role / "README.md").read_text(encoding="utf-8")
    for name in _defaults(role):
        assert f"`{name}`" in readme, f"{role}: README lacks {name}"


@pytest.mark.parametrize("role", ALERT_ROLES)
def test_readme_describes_every_rule_and_the_sections(role):
    readme = (ROLES_DIR / role / "README.md").read_text(encoding="utf-8")
    for section in ("## What it checks", "## What it may change", "## What needs approval"):
        assert section in readme, f"{role}: README lacks {section}"
    rules = _defaults(role).get(f"{role}_rules") or []
    assert rules, f"{role} declares no mitigation rules"
    for rule in rules:
        assert f"`{rule['action']}`" in readme, f"{role}: README lacks rule {rule['action']}"


@pytest.mark.parametrize("role", ALERT_ROLES)
def test_rules_use_known_mitigation_types_and_unique_actions(role):
    known = set(EXECUTORS)
    rules = _defaults(role)[f"{role}_rules"]
    actions = [rule["action"] for rule in rules]
    assert len(actions) == len(set(actions))
    for rule in rules:
        assert rule["type"] in known, f"{role}: {rule['action']} has unknown type {rule['type']}"
        assert re.fullmatch(r"[A-Z][A-Za-z]+", rule["reason"]), rule


@pytest.mark.parametrize("role", ALERT_ROLES)
def test_role_includes_the_contract_with_its_catalog_identity(role):
    tasks = _yaml(ROLES_DIR / role / "tasks" / "main.yml")
    include = next(t for t in tasks if "ansible.builtin.include_role" in t)
    assert include["ansible.builtin.include_role"]["name"] == "sre.runbooks.remediation"
    given = include["vars"]
    # Shared alert names (HighErrorRate of several systems) map to one role name; the role
    # remediates the system it names, and the contract refuses the others.
    entries = [
        e for e in _catalog() if e["role"] == role and e["system"] == given["remediation_system"]
    ]
    assert [e["alert"] for e in entries] == [given["remediation_alert"]]
    assert given["remediation_role"] == role
