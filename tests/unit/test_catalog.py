"""The alert catalog agrees with the alerting rules and the seeds, and resolves alerts by labels."""

import re
from pathlib import Path

import pytest
import yaml

from sre_runbooks import catalog
from sre_runbooks.catalog import (
    CATALOG_PATH,
    AlertResolutionError,
    CatalogFileError,
    UnknownAlertError,
    load_catalog,
    resolve,
    resolver,
    role_options,
)
from sre_runbooks.rules import load_rules

# Every (alert, system) pair of prometheus/rules/*.yml. There are 28 rules but 27 pairs:
# api-optimizer's HighLatency is two rules (critical SEV-1 and warning SEV-2) and one entry.
EXPECTED_PAIRS = {
    ("ServiceLatencyHigh", "ai-coding-bench"),
    ("ServiceDown", "nimify"),
    ("HighErrorRate", "nimify"),
    ("DatabaseDown", "nimify"),
    ("GPUUnavailable", "nimify"),
    ("HighLatency", "nimify"),
    ("HighMemoryUsage", "nimify"),
    ("HighDiskUsage", "nimify"),
    ("ModelLoadFailure", "nimify"),
    ("PodRestart", "nimify"),
    ("SlowQueries", "nimify"),
    ("CacheHitRateLow", "nimify"),
    ("HighLatency", "api-optimizer"),
    ("HighErrorRate", "api-optimizer"),
    ("LowCacheHitRatio", "api-optimizer"),
    ("HighErrorRate", "service-template"),
    ("HighLatency", "service-template"),
    ("ServiceDown", "service-template"),
    ("HighMemoryUsage", "service-template"),
    ("BoltLoggingLatencyHigh", "bolt"),
    ("BoltUnexpectedAllocations", "bolt"),
    ("BoltEventPoolExhaustion", "bolt"),
    ("BoltLoggingRateCritical", "bolt"),
    ("BoltLoggingLatencyWarning", "bolt"),
    ("BoltHandlerLatencyHigh", "bolt"),
    ("BoltEventPoolWarning", "bolt"),
    ("BoltMemoryUsageHigh", "bolt"),
}

# The alert names as the seeds spell them (001 and 004 name theirs; 000, 002 and 003 do not).
SEED_ALERT_NAMES = {
    "ServiceDown",
    "HighErrorRate",
    "DatabaseDown",
    "GPUUnavailable",
    "HighLatency",
    "HighMemoryUsage",
    "HighDiskUsage",
    "ModelLoadFailure",
    "PodRestart",
    "SlowQueries",
    "CacheHitRatelow",
    "BoltLoggingLatencyHigh",
    "BoltUnexpectedAllocations",
    "BoltEventPoolExhaustion",
    "BoltLoggingRateCritical",
    "BoltLoggingLatencyWarning",
    "BoltHandlerLatencyHigh",
    "BoltEventPoolWarning",
    "BoltMemoryUsageHigh",
}

# Escalations the seeds state per alert (seed 001), and the general sections used elsewhere.
SEED_ESCALATIONS = {
    ("ServiceDown", "nimify"): [("15m", "Engineering Manager")],
    ("HighErrorRate", "nimify"): [("10m", "Engineering team lead")],
    ("DatabaseDown", "nimify"): [("0m", "Database administrator")],
    ("GPUUnavailable", "nimify"): [("0m", "Infrastructure team")],
}
BOLT_ESCALATION = [
    ("0m", "On-call engineer"),
    ("30m", "Senior engineers"),
    ("60m", "Development team"),
]
SEED_SEVERITIES = {
    "ai-coding-bench": {"warning": "Warning"},
    "nimify": {"critical": "SEV-1", "warning": "SEV-2", "info": "SEV-3"},
    "api-optimizer": {"critical": "SEV-1", "warning": "SEV-2"},
    "service-template": {"critical": "Critical", "warning": "Warning"},
    "bolt": {"critical": "P0", "warning": "P1"},
}


@pytest.fixture(scope="module")
def cat() -> catalog.Catalog:
    return load_catalog()


@pytest.fixture(scope="module")
def rules_by_pair() -> dict[tuple[str, str], list]:
    grouped: dict[tuple[str, str], list] = {}
    for rule in load_rules():
        grouped.setdefault((rule.alert, rule.system), []).append(rule)
    return grouped


def _namespaces(expr: str, operator: str) -> set[str]:
    found: set[str] = set()
    for value in re.findall(rf'namespace{re.escape(operator)}"([^"]+)"', expr):
        found.update(value.split("|"))
    return found


def _write_catalog(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "alert_catalog.yml"
    path.write_text(yaml.safe_dump({"alert_catalog": entries}, sort_keys=False))
    return path


def _raw_entries() -> list[dict]:
    return yaml.safe_load(CATALOG_PATH.read_text())["alert_catalog"]


# ----- agreement with the rules -----


def test_catalog_has_one_entry_per_alert_and_system_of_the_rules(cat, rules_by_pair):
    assert len(load_rules()) == 28
    assert set(rules_by_pair) == EXPECTED_PAIRS
    keys = [entry.key for entry in cat]
    assert len(keys) == len(set(keys)) == 27
    assert set(keys) == EXPECTED_PAIRS


def test_role_is_the_rules_runbook_label_and_the_snake_case_of_the_alert(cat, rules_by_pair):
    for entry in cat:
        for rule in rules_by_pair[entry.key]:
            assert entry.role == rule.runbook, entry.key
        snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", entry.alert)
        assert entry.role == snake.lower(), entry.key


def test_severities_equal_the_rules_and_the_seed_scale(cat, rules_by_pair):
    for entry in cat:
        rule_severities = sorted(rule.severity for rule in rules_by_pair[entry.key])
        assert sorted(entry.severities) == rule_severities, entry.key
        assert entry.severity == entry.severities[0]
        for severity in entry.severities:
            assert entry.level(severity).seed_severity == SEED_SEVERITIES[entry.system][severity]


def test_runbook_url_equals_the_rules_annotation(cat, rules_by_pair):
    for entry in cat:
        for rule in rules_by_pair[entry.key]:
            assert entry.runbook_url == rule.annotations["runbook_url"], entry.key


def test_specific_entries_match_exactly_the_namespaces_their_rules_cover(cat, rules_by_pair):
    for entry in cat:
        if entry.catch_all:
            continue
        covered: set[str] = set()
        for rule in rules_by_pair[entry.key]:
            covered |= _namespaces(rule.expr, "=") | _namespaces(rule.expr, "=~")
            if "namespace" in rule.labels:
                covered.add(rule.labels["namespace"])
        selected = {s["namespace"] for s in entry.match if "namespace" in s}
        assert selected == covered, entry.key
        assert {"system": entry.system} in entry.match, entry.key


def test_catch_all_entries_exclude_the_namespaces_their_rules_exclude(cat, rules_by_pair):
    catch_alls = [entry for entry in cat if entry.catch_all]
    assert {entry.key for entry in catch_alls} == {
        pair for pair in EXPECTED_PAIRS if pair[1] == "service-template"
    }
    for entry in catch_alls:
        (rule,) = rules_by_pair[entry.key]
        assert set(entry.excluded_namespaces) == _namespaces(rule.expr, "!~"), entry.key
        assert entry.target["from_labels"]["namespace"] == "namespace"


def test_every_shared_alert_name_has_one_catch_all_for_the_service_template(cat):
    for name in cat.names():
        group = cat.by_name(name)
        if len(group) > 1:
            assert [entry.system for entry in group if entry.catch_all] == ["service-template"]


# ----- agreement with the seeds -----


def test_every_seed_alert_name_resolves(cat):
    for name in SEED_ALERT_NAMES:
        assert cat.canonical_name(name) in cat.names(), name


def test_seed_escalations_are_kept(cat):
    for key, steps in SEED_ESCALATIONS.items():
        entry = cat.resolve(key[0], {"system": key[1]})
        assert [(step.after, step.to) for step in entry.escalation] == steps
    for entry in cat.entries(system="bolt"):
        assert [(step.after, step.to) for step in entry.escalation] == BOLT_ESCALATION
    template = cat.resolve("HighErrorRate", {"system": "service-template"})
    assert ("30m", "Team Lead") in [(step.after, step.to) for step in template.escalation]


def test_entries_without_a_seed_escalation_say_so_in_notes(cat):
    for entry in cat:
        if entry.key not in SEED_ESCALATIONS and entry.system == "nimify":
            assert entry.notes, entry.key
        if not entry.escalation:
            assert "escalation" in entry.notes, entry.key


def test_default_targets_follow_the_seeds(cat):
    def target(alert: str, system: str) -> dict:
        return cat.resolve(alert, {"system": system}).target

    assert target("HighErrorRate", "nimify") == {
        "namespace": "nimify-system",
        "kind": "Deployment",
        "name": "nimify-api",
    }
    assert target("DatabaseDown", "nimify") == {
        "namespace": "database",
        "kind": "StatefulSet",
        "name": "postgres",
    }
    gpu = cat.resolve("GPUUnavailable")
    assert gpu.target == {
        "namespace": "kube-system",
        "kind": "DaemonSet",
        "name": "nvidia-device-plugin-daemonset",
    }
    assert any(item["name"] == "nimify-api" for item in gpu.raw["related"])


# ----- resolution (its rules: tests/unit/test_alert_resolver.py) -----


def test_the_launcher_resolves_through_the_collections_resolver(cat):
    assert cat.resolve("CacheHitRatelow").alert == "CacheHitRateLow"
    assert resolve("CacheHitRatelow", {}).key == ("CacheHitRateLow", "nimify")
    for entry in cat:
        assert entry.as_dict() == resolver().load(str(CATALOG_PATH.parents[2])).entry(*entry.key)


def test_catch_all_target_comes_from_the_alert_labels(cat):
    labels = {"namespace": "shop", "service": "cart"}
    entry = cat.resolve("HighErrorRate", labels)
    assert entry.target_for(labels) == {"namespace": "shop", "kind": "Deployment", "name": "cart"}
    with pytest.raises(AlertResolutionError, match="service"):
        entry.target_for({"namespace": "shop"})


def test_target_label_values_must_be_kubernetes_names(cat):
    labels = {"namespace": "shop", "service": "cart;reboot"}
    entry = cat.resolve("HighErrorRate", labels)
    with pytest.raises(AlertResolutionError, match="label 'service'"):
        entry.target_for(labels)


def test_pod_alert_target_is_the_labelled_pod(cat):
    labels = {"system": "nimify", "namespace": "triton-system", "pod": "triton-server-7d9f-x2"}
    assert cat.resolve("PodRestart", labels).target_for(labels) == {
        "namespace": "triton-system",
        "kind": "Pod",
        "name": "triton-server-7d9f-x2",
    }


def test_resolution_errors_are_the_launchers(cat):
    with pytest.raises(AlertResolutionError, match="no entry matches"):
        cat.resolve("HighErrorRate", {"namespace": "triton-system"})
    with pytest.raises(AlertResolutionError, match="several systems"):
        cat.resolve("HighErrorRate", {"system": "nimify", "namespace": "api-optimizer"})
    with pytest.raises(AlertResolutionError, match="no entry for system 'bolt'"):
        cat.resolve("HighErrorRate", {"system": "bolt"})


def test_unknown_alert_lists_the_closest_matches_and_the_known_names(cat):
    with pytest.raises(UnknownAlertError) as caught:
        cat.resolve("HighErorRate", {})
    assert caught.value.suggestions[0] == "HighErrorRate"
    assert caught.value.known == cat.names()
    assert "Did you mean: HighErrorRate" in str(caught.value)
    assert "PodRestart" in str(caught.value)


def test_levels_give_severity_specific_escalation(cat):
    entry = cat.resolve("HighLatency", {"namespace": "api-optimizer"})
    assert entry.severities == ("critical", "warning")
    assert entry.level("warning").seed_severity == "SEV-2"
    assert entry.level("critical").escalation[0].after == "0m"
    assert entry.level("warning").escalation[0].after_seconds == 900


# ----- filters -----


def test_entries_filter_by_system_and_severity(cat):
    assert {entry.system for entry in cat.entries(system="bolt")} == {"bolt"}
    assert len(cat.entries(system="bolt")) == 8
    warnings = cat.entries(severity="warning")
    assert all("warning" in entry.severities for entry in warnings)
    assert ("HighLatency", "api-optimizer") in {entry.key for entry in warnings}
    assert [entry.alert for entry in cat.entries(system="nimify", severity="info")] == [
        "PodRestart",
        "SlowQueries",
        "CacheHitRateLow",
    ]
    assert catalog.entries(system="nope") == []


# ----- validation -----


def test_the_catalog_is_readable_as_playbook_vars():
    document = yaml.safe_load(CATALOG_PATH.read_text())
    assert list(document) == ["alert_catalog"]
    assert "{{" not in CATALOG_PATH.read_text()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda e: e.pop("aliases"),
            r"ServiceLatencyHigh \(ai-coding-bench\): field 'aliases': is required",
        ),
        (lambda e: e.update(severity="page"), r"field 'severity': comes from the alerting rule"),
        (lambda e: e.update(system="bolt"), "no alerting rule"),
        (lambda e: e.update(escalation=[{"after": "soon", "to": "x"}]), r"escalation\[0\]\.after"),
        (
            lambda e: e.update(
                escalation=[{"after": "30m", "to": "a"}, {"after": "5m", "to": "b"}]
            ),
            "in order of 'after'",
        ),
        (lambda e: e.update(target={"kind": "Deployment", "namespace": "x"}), r"target\.name"),
        (lambda e: e.update(target={"kind": "Job", "namespace": "x", "name": "y"}), "target.kind"),
        (
            lambda e: e.update(target={"kind": "Deployment", "namespace": "Bad", "name": "y"}),
            r"target\.namespace.*RFC 1123",
        ),
        (lambda e: e.update(match=[{}]), r"match\[0\]"),
        (lambda e: e.update(colour="red"), "'colour': is not a catalog field"),
        (lambda e: e.update(description="a {{ lookup('pipe', 'id') }}"), "template delimiters"),
        (lambda e: e.update(escalation=[], notes=""), "say why in 'notes'"),
        (lambda e: e.update(excluded_namespaces=["a"]), "only allowed on a catch_all"),
    ],
)
def test_invalid_entries_are_refused_naming_entry_and_field(tmp_path, change, message):
    entries = _raw_entries()
    change(entries[0])
    with pytest.raises(CatalogFileError, match=message):
        load_catalog(_write_catalog(tmp_path, entries))


def test_duplicate_entries_and_clashing_aliases_are_refused(tmp_path):
    entries = _raw_entries()
    with pytest.raises(CatalogFileError, match="more than one entry"):
        load_catalog(_write_catalog(tmp_path, [*entries, entries[1]]))
    entries[0]["aliases"] = ["PodRestart"]
    with pytest.raises(CatalogFileError, match="alias 'PodRestart' is an alert name"):
        load_catalog(_write_catalog(tmp_path, entries))


def test_missing_or_malformed_catalog_file_is_a_catalog_error(tmp_path):
    with pytest.raises(CatalogFileError, match="cannot read"):
        load_catalog(tmp_path / "absent.yml")
    path = tmp_path / "broken.yml"
    path.write_text("alert_catalog: [\n")
    with pytest.raises(CatalogFileError, match="not valid YAML"):
        load_catalog(path)
    path.write_text("---\nsomething_else: []\n")
    with pytest.raises(CatalogFileError, match="top-level list 'alert_catalog'"):
        load_catalog(path)


# ----- roles -----


def test_role_options_are_none_until_the_role_exists(tmp_path):
    assert role_options("high_error_rate", tmp_path) is None
    meta = tmp_path / "high_error_rate" / "meta"
    meta.mkdir(parents=True)
    (meta / "argument_specs.yml").write_text(
        "---\nargument_specs:\n  main:\n    options:\n"
        "      high_error_rate_threshold: {type: float, default: 0.05}\n"
    )
    assert role_options("high_error_rate", tmp_path) == {
        "high_error_rate_threshold": {"type": "float", "default": 0.05}
    }
