"""Checks for the Prometheus alerting rules in prometheus/rules and their unit tests.

The rules turn the five runbooks of the collection's specification into alerts; each
alert names, in its `runbook` label, the role that handles it. These tests run promtool
on the rule files and their unit tests, and check the label and annotation conventions
that the alert catalog relies on.
"""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from sre_runbooks.rules import install_rules

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = REPO_ROOT / "prometheus" / "rules"
TESTS_DIR = REPO_ROOT / "prometheus" / "tests"

# The rule files as shipped link to docs/alerts.md in the collection (sre_runbooks.rules).
RUNBOOK_URL = "docs/alerts.md#{}"
SEVERITIES = {"critical", "warning", "info"}
NO_PROMTOOL = "promtool is not on PATH: run `make setup` (installs Debian's prometheus package)"

# rule file stem -> system label, and alert name -> the severities its rules must carry
# (from the runbooks: SEV-0/SEV-1/P0 -> critical, SEV-2/P1 -> warning, SEV-3 -> info).
EXPECTED = {
    "ai_coding_bench": (
        "ai-coding-bench",
        {"ServiceLatencyHigh": {"warning"}},
    ),
    "nimify": (
        "nimify",
        {
            "ServiceDown": {"critical"},
            "HighErrorRate": {"critical"},
            "DatabaseDown": {"critical"},
            "GPUUnavailable": {"critical"},
            "HighLatency": {"warning"},
            "HighMemoryUsage": {"warning"},
            "HighDiskUsage": {"warning"},
            "ModelLoadFailure": {"warning"},
            "PodRestart": {"info"},
            "SlowQueries": {"info"},
            "CacheHitRateLow": {"info"},
        },
    ),
    "api_optimizer": (
        "api-optimizer",
        {
            "HighLatency": {"critical", "warning"},
            "HighErrorRate": {"critical"},
            "LowCacheHitRatio": {"warning"},
        },
    ),
    "service_template": (
        "service-template",
        {
            "HighErrorRate": {"critical"},
            "HighLatency": {"critical"},
            "ServiceDown": {"critical"},
            "HighMemoryUsage": {"warning"},
        },
    ),
    "bolt": (
        "bolt",
        {
            "BoltLoggingLatencyHigh": {"critical"},
            "BoltUnexpectedAllocations": {"critical"},
            "BoltEventPoolExhaustion": {"critical"},
            "BoltLoggingRateCritical": {"critical"},
            "BoltLoggingLatencyWarning": {"warning"},
            "BoltHandlerLatencyHigh": {"warning"},
            "BoltEventPoolWarning": {"warning"},
            "BoltMemoryUsageHigh": {"warning"},
        },
    ),
}
STEMS = sorted(EXPECTED)

# Namespaces owned by nimify.yml and api_optimizer.yml; the template leaves them out.
DEDICATED_NAMESPACES = "nimify-system|triton-system|database|api-optimizer"


def snake_case(name):
    """HighErrorRate -> high_error_rate, GPUUnavailable -> gpu_unavailable."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    name = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", name)
    return name.lower()


def rule_file(stem):
    return RULES_DIR / f"{stem}.yml"


def unit_test_file(stem):
    return TESTS_DIR / f"{stem}_test.yml"


def load_rules(stem):
    """The alerting rules of one rule file, which must hold exactly one group."""
    path = rule_file(stem)
    groups = yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]
    assert len(groups) == 1, f"{path.name}: {len(groups)} groups, expected one"
    return groups[0]["rules"]


def load_alert_tests(stem):
    """All alert_rule_test entries of one promtool test file."""
    doc = yaml.safe_load(unit_test_file(stem).read_text(encoding="utf-8"))
    return [case for test in doc["tests"] for case in test.get("alert_rule_test", [])]


def namespace_available(rule):
    """The alert's namespace comes from the rule's labels or every `by (...)` clause."""
    if "namespace" in rule.get("labels", {}):
        return True
    clauses = re.findall(r"\bby\s*\(([^)]*)\)", rule["expr"])
    grouped_by = [{label.strip() for label in clause.split(",")} for clause in clauses]
    return bool(grouped_by) and all("namespace" in labels for labels in grouped_by)


def run_promtool(promtool, *args):
    result = subprocess.run(
        [promtool, *args], capture_output=True, text=True, cwd=REPO_ROOT, check=False
    )
    return result.returncode, f"{result.stdout}\n{result.stderr}"


@pytest.fixture(scope="module")
def promtool():
    # Without promtool the rules are unchecked: a failure, not a skip (`make setup` installs it).
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(NO_PROMTOOL)
    return path


def test_snake_case_matches_documented_examples():
    assert snake_case("HighErrorRate") == "high_error_rate"
    assert snake_case("CacheHitRateLow") == "cache_hit_rate_low"
    assert snake_case("BoltLoggingLatencyHigh") == "bolt_logging_latency_high"
    assert snake_case("GPUUnavailable") == "gpu_unavailable"


@pytest.mark.parametrize("stem", STEMS)
def test_rule_file_passes_promtool_check(promtool, stem):
    returncode, output = run_promtool(promtool, "check", "rules", str(rule_file(stem)))
    assert returncode == 0, output


def test_rules_installed_with_another_runbook_base_pass_promtool(promtool, tmp_path):
    written = install_rules(RULES_DIR, tmp_path, "https://docs.example.com/sre-runbooks")
    assert len(written) == len(STEMS)
    returncode, output = run_promtool(promtool, "check", "rules", *map(str, written))
    assert returncode == 0, output


@pytest.mark.parametrize("stem", STEMS)
def test_promtool_unit_tests_pass(promtool, stem):
    path = unit_test_file(stem)
    returncode, output = run_promtool(promtool, "test", "rules", str(path))
    assert returncode == 0, output


@pytest.mark.parametrize("stem", STEMS)
def test_unit_tests_load_their_own_rule_file(stem):
    doc = yaml.safe_load(unit_test_file(stem).read_text(encoding="utf-8"))
    loaded = [(TESTS_DIR / path).resolve() for path in doc["rule_files"]]
    assert loaded == [rule_file(stem).resolve()]


@pytest.mark.parametrize("stem", STEMS)
def test_rule_file_defines_exactly_the_expected_alerts(stem):
    expected = set(EXPECTED[stem][1])
    found = {rule["alert"] for rule in load_rules(stem)}
    assert found == expected, f"missing {expected - found}, extra {found - expected}"


@pytest.mark.parametrize("stem", STEMS)
def test_severity_follows_the_runbook_classification(stem):
    _, expected = EXPECTED[stem]
    found = {}
    for rule in load_rules(stem):
        severity = rule.get("labels", {}).get("severity")
        found.setdefault(rule["alert"], []).append(severity)
    for alert, severities in found.items():
        assert sorted(severities) == sorted(expected.get(alert, ())), alert


@pytest.mark.parametrize("stem", STEMS)
def test_every_rule_has_the_labels_and_annotations_the_catalog_needs(stem):
    system, _ = EXPECTED[stem]
    problems = []
    for rule in load_rules(stem):
        alert = rule["alert"]
        labels = rule.get("labels", {})
        annotations = rule.get("annotations", {})
        severity, runbook = labels.get("severity"), labels.get("runbook")
        if severity not in SEVERITIES:
            problems.append(f"{alert}: severity {severity!r} not in {SEVERITIES}")
        if labels.get("system") != system:
            problems.append(f"{alert}: system {labels.get('system')!r}, not {system!r}")
        if runbook != snake_case(alert):
            problems.append(f"{alert}: runbook {runbook!r}, not {snake_case(alert)!r}")
        if not namespace_available(rule):
            problems.append(f"{alert}: no namespace label nor `by (namespace, ...)`")
        if not rule.get("for"):
            problems.append(f"{alert}: no for: duration")
        for key in ("summary", "description"):
            if not str(annotations.get(key, "")).strip():
                problems.append(f"{alert}: annotation {key} missing or empty")
        if annotations.get("runbook_url") != RUNBOOK_URL.format(alert.lower()):
            problems.append(f"{alert}: runbook_url {annotations.get('runbook_url')!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("stem", STEMS)
def test_every_alert_has_a_firing_and_a_silent_case(stem):
    cases = load_alert_tests(stem)
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    silent = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    alerts = {rule["alert"] for rule in load_rules(stem)}
    assert alerts <= firing, f"no firing case for {sorted(alerts - firing)}"
    assert alerts <= silent, f"no silent case for {sorted(alerts - silent)}"


@pytest.mark.parametrize("stem", STEMS)
def test_expected_alerts_assert_namespace_and_the_rule_labels(stem):
    rule_labels = {}
    for rule in load_rules(stem):
        rule_labels[rule["alert"], rule["labels"]["severity"]] = rule["labels"]
    problems = []
    for case in load_alert_tests(stem):
        for expected in case.get("exp_alerts") or []:
            labels = expected.get("exp_labels", {})
            where = f"{case['alertname']} at {case['eval_time']}"
            if not labels.get("namespace"):
                problems.append(f"{where}: expected labels carry no namespace")
            severity = labels.get("severity")
            rule = rule_labels.get((case["alertname"], severity))
            if rule is None:
                problems.append(f"{where}: no rule with severity {severity!r}")
                continue
            for key, value in rule.items():
                got = labels.get(key)
                if got != value:
                    problems.append(f"{where}: {key}={got!r}, not {value!r}")
    assert not problems, "\n".join(problems)


def test_service_template_rules_exclude_the_dedicated_namespaces():
    problems = []
    for rule in load_rules("service_template"):
        selectors = re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*\{[^}]*\}", rule["expr"])
        if not selectors:
            problems.append(f"{rule['alert']}: no label selector")
        for selector in selectors:
            if f'namespace!~"{DEDICATED_NAMESPACES}"' not in selector:
                problems.append(f"{rule['alert']}: {selector} does not exclude them")
    assert not problems, "\n".join(problems)
