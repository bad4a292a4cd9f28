"""Every alert role's rules as a table: recorded findings -> the decisions the role must make.

Each table (tests/unit/rules/<role>.yml) gives a baseline of findings in which the role must do
nothing, and cases that change some findings and name the decisions expected, in order, with
their statuses. The rules are evaluated exactly as the engine does (plugins/plugin_utils/_rules.py
with Ansible's templar, then the guardrails of _decide.py), without a cluster. Every role with
rules must have a table, and every rule must be expected by at least one case.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from ansible_collections.sre.runbooks.plugins.plugin_utils import _decide as decide
from ansible_collections.sre.runbooks.plugins.plugin_utils import _rules as rules

REPO = Path(__file__).resolve().parents[3]
TABLES = Path(__file__).resolve().parent
ROLES = sorted(
    p.name
    for p in (REPO / "roles").iterdir()
    if (p / "tasks" / "main.yml").is_file() and p.name != "remediation"
)
LOADER = DataLoader()
REMEDIATION_DEFAULTS = LOADER.load_from_file(
    str(REPO / "roles" / "remediation" / "defaults" / "main.yml"), trusted_as_template=True
)
REMEDIATION_VARS = LOADER.load_from_file(
    str(REPO / "roles" / "remediation" / "vars" / "main.yml"), trusted_as_template=True
)


def skeleton():
    """Findings with every key of the schema (docs/findings.md), as the engine always gives."""
    return {
        "firing": True,
        "alerts": [],
        "alert": {},
        "target": {},
        "metrics": {},
        "series": {},
        "workload": {
            "namespace": "",
            "workload": dict.fromkeys(rules.SCHEMA["workload"]["workload"]),
            "pods": [],
            "containers": [],
            "summary": {
                "pods": 0,
                "ready": 0,
                "restarts": 0,
                "waiting_reasons": {},
                "oom_killed": [],
                "crash_looping": [],
                "phases": [],
            },
            "history": dict.fromkeys(rules.SCHEMA["workload"]["history"]),
            "events": [],
            "metrics": None,
            "logs": None,
            "missing": [],
        },
        "probes": {},
    }


def merged(base, change):
    """``change`` laid over ``base``: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(base)
    for key, value in (change or {}).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class Role:
    """An alert role's data as the remediation role sees it, for one case's extra variables."""

    def __init__(self, name):
        self.name = name
        root = REPO / "roles" / name
        self.defaults = (
            LOADER.load_from_file(str(root / "defaults" / "main.yml"), trusted_as_template=True)
            or {}
        )
        tasks = LOADER.load_from_file(str(root / "tasks" / "main.yml"), trusted_as_template=True)
        include = next(t for t in tasks if "ansible.builtin.include_role" in t)
        self.include_vars = include.get("vars") or {}

    def variables(self, extra, findings):
        variables = {}
        for layer in (REMEDIATION_DEFAULTS, REMEDIATION_VARS, self.defaults, self.include_vars):
            variables.update(layer)
        variables.update(extra)
        variables["findings"] = findings
        return variables

    def raw(self, variables, name):
        value = variables.get(name)
        while (
            isinstance(value, str)
            and value.strip().startswith("{{")
            and value.strip()[2:-2].strip().isidentifier()
        ):
            value = variables.get(value.strip()[2:-2].strip())
        return value or []

    def decide(self, findings, extra=None, settings=None):
        """(decisions, investigation) for these findings, as the engine makes them."""
        variables = self.variables({"alert_labels": {}, **(extra or {})}, findings)
        templar = Templar(loader=LOADER, variables=variables)
        queries = templar.template(variables.get("remediation_queries") or {})
        probes = templar.template(variables.get("remediation_probes") or [])
        target = templar.template(variables["remediation_target"])
        if target["kind"] == "Pod" and findings["target"].get("kind"):
            # The engine acts on the pod's controller, found through ownerReferences: the
            # case's findings.target says which.
            target = findings["target"]
        matched = rules.evaluate(
            templar,
            self.raw(variables, "remediation_rules"),
            list(queries),
            [p["name"] for p in probes],
            target["kind"],
        )
        given = {"approve": False, "max_mitigations": 3, **(settings or {})}
        decisions = decide.plan(
            matched,
            {"kind": target["kind"], "namespace": target["namespace"], "name": target["name"]},
            protected=templar.template(variables["remediation_protected_namespaces"]),
            exemptions=templar.template(variables["remediation_protected_exemptions"]),
            approve=given["approve"],
            max_mitigations=given["max_mitigations"],
        )
        investigation = rules.investigate(
            templar, self.raw(variables, "remediation_investigation"), strict=True
        )
        return decisions, investigation


@functools.cache
def role_data(name):
    return Role(name)


@functools.cache
def load_table(role):
    path = TABLES / f"{role}.yml"
    return yaml.safe_load(path.read_text()) if path.is_file() else None


CASES = [
    pytest.param(role, index, id=f"{role}-{case.get('name', index)}")
    for role in ROLES
    for index, case in enumerate((load_table(role) or {}).get("cases") or [])
]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_a_table_covering_every_rule(role):
    table = load_table(role)
    assert table, f"tests/unit/rules/{role}.yml is missing"
    names = [
        r["action"]
        for r in role_data(role).raw(role_data(role).variables({}, {}), "remediation_rules")
    ]
    expected = {a for case in table["cases"] for a in (case.get("expect") or {})}
    assert set(names) <= expected, f"no case expects {sorted(set(names) - expected)}"
    assert any(not case.get("expect") for case in table["cases"]), (
        "no case where the role must do nothing"
    )


@pytest.mark.parametrize(("role", "index"), CASES)
def test_case(role, index):
    table = load_table(role)
    case = table["cases"][index]
    findings = merged(merged(skeleton(), table.get("baseline")), case.get("findings"))
    decisions, investigation = role_data(role).decide(
        findings, case.get("vars"), case.get("settings")
    )
    got = {d["action"]: d["status"] for d in decisions}
    assert list(got.items()) == list((case.get("expect") or {}).items()), case.get("name")
    for decision in decisions:
        for key, value in (case.get("params") or {}).get(decision["action"], {}).items():
            assert decision["params"][key] == value, (decision["action"], key)
    # Every investigation step was answered (strictly: an undefined finding raises above).
    assert all(step["step"] for step in investigation)


@pytest.mark.parametrize("role", ROLES)
def test_a_misspelt_finding_fails(role):
    """A typo in any rule's `when` is an error, not a rule that silently never fires."""
    data = role_data(role)
    variables = data.variables({}, skeleton())
    raw = copy.deepcopy(data.raw(variables, "remediation_rules"))
    if not raw:
        pytest.skip("no rules")
    raw[0]["when"] = "findings.metricz.error_ratio > 1"
    with pytest.raises(decide.RuleError, match="metricz"):
        rules.check_rules(raw, [], [])
