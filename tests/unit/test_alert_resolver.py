"""The one alert resolver (plugins/plugin_utils/alert_catalog.py), tested directly: the rules and
the catalog merged, resolution by name, alias and labels, and its errors."""

import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from sre_runbooks import collection
from sre_runbooks.catalog import resolver

ROOT = collection.path()
ac = resolver()


@pytest.fixture(scope="module")
def cat():
    return ac.load(str(ROOT))


def _copy(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the catalog and the rules to break."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "prometheus" / "rules", rules)
    catalog = tmp_path / "alert_catalog.yml"
    shutil.copy(ROOT.joinpath(*ac.CATALOG_FILE), catalog)
    return catalog, rules


def _edit_catalog(path: Path, change) -> None:
    document = yaml.safe_load(path.read_text())
    change(document["alert_catalog"])
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _load(tmp_path: Path, catalog: Path, rules: Path):
    return ac.load(str(tmp_path), catalog_path=str(catalog), rules_dir=str(rules))


# ----- the merged entry -----


def test_identity_comes_from_the_rules(cat):
    entry = cat.entry("HighErrorRate", "nimify")
    assert entry["role"] == "high_error_rate"
    assert entry["severity"] == "critical"
    assert entry["seed_severity"] == "SEV-1"
    assert entry["runbook_url"] == "docs/alerts.md#higherrorrate"
    assert entry["escalation"] == [{"after": "10m", "to": "Engineering team lead"}]
    assert entry["target"] == {
        "namespace": "nimify-system",
        "kind": "Deployment",
        "name": "nimify-api",
    }
    latency = cat.entry("HighLatency", "api-optimizer")
    assert latency["severities"] == ["critical", "warning"]
    assert latency["severity"] == "critical"


def test_entry_takes_an_alias_and_is_empty_when_unknown(cat):
    assert cat.entry("CacheHitRatelow", "nimify")["alert"] == "CacheHitRateLow"
    assert cat.entry("CacheHitRateLow", "bolt") == {}
    assert cat.entry("NoSuchAlert", "nimify") == {}


def test_entries_are_copies(cat):
    cat.entry("HighErrorRate", "nimify")["escalation"].clear()
    cat.resolve("HighErrorRate", {"system": "nimify"})["match"].clear()
    assert cat.entry("HighErrorRate", "nimify")["escalation"]
    assert cat.resolve("HighErrorRate", {"system": "nimify"})["match"]


# ----- resolution -----


def test_alias_resolves_case_sensitively(cat):
    assert cat.resolve("CacheHitRatelow")["alert"] == "CacheHitRateLow"
    with pytest.raises(ac.UnknownAlert):
        cat.resolve("cachehitratelow")


@pytest.mark.parametrize(
    ("labels", "system"),
    [
        ({"namespace": "nimify-system"}, "nimify"),
        ({"namespace": "api-optimizer"}, "api-optimizer"),
        ({"namespace": "shop", "service": "cart"}, "service-template"),
        ({"system": "nimify", "namespace": "nimify-system", "job": "nimify-api"}, "nimify"),
        ({"system": "service-template", "namespace": "ai-coding-bench"}, "service-template"),
        ({"system": "api-optimizer"}, "api-optimizer"),
        ({}, "service-template"),
    ],
)
def test_high_error_rate_resolves_by_labels(cat, labels, system):
    assert cat.resolve("HighErrorRate", labels)["system"] == system


def test_namespace_excluded_from_the_catch_all_selects_no_entry(cat):
    with pytest.raises(ac.NoEntry, match="no entry matches") as caught:
        cat.resolve("HighErrorRate", {"namespace": "triton-system"})
    assert "pass the alert's namespace or system label" in str(caught.value)
    with pytest.raises(ac.NoEntry, match="no entry matches"):
        cat.resolve("ServiceDown", {"namespace": "api-optimizer"})


def test_contradicting_labels_are_refused(cat):
    with pytest.raises(ac.AmbiguousAlert, match="several systems"):
        cat.resolve("HighErrorRate", {"system": "nimify", "namespace": "api-optimizer"})
    with pytest.raises(ac.NoEntry, match="no entry for system 'bolt'"):
        cat.resolve("HighErrorRate", {"system": "bolt"})
    with pytest.raises(ac.NoEntry, match="no entry matches"):
        cat.resolve("PodRestart", {"namespace": "shop"})


def test_single_entry_name_resolves_without_labels(cat):
    assert cat.resolve("BoltMemoryUsageHigh")["system"] == "bolt"
    assert cat.resolve("ServiceLatencyHigh", {"job": "api"})["system"] == "ai-coding-bench"


def test_unknown_alert_names_the_closest_and_every_known_name(cat):
    with pytest.raises(ac.UnknownAlert) as caught:
        cat.resolve("HighErorRate", {})
    assert caught.value.suggestions[0] == "HighErrorRate"
    assert caught.value.known == cat.names()
    assert "Did you mean: HighErrorRate" in str(caught.value)
    assert "Known alerts: BoltEventPoolExhaustion" in str(caught.value)
    with pytest.raises(ac.UnknownAlert) as caught:
        cat.resolve("gpuunavailable")
    assert caught.value.suggestions[0] == "GPUUnavailable"


def test_errors_are_value_errors_of_one_base():
    for error in (ac.UnknownAlert, ac.AmbiguousAlert, ac.NoEntry):
        assert issubclass(error, ac.ResolveError)
    assert issubclass(ac.ResolveError, ValueError)


# ----- properties -----

NAMES = sorted({entry["alert"] for entry in ac.load(str(ROOT))})
ALIASES = sorted(ac.load(str(ROOT)).aliases().items())
SELECTING = ["system", "namespace", "job", "service", "pod"]
VALUES = sorted(
    {value for entry in ac.load(str(ROOT)) for s in entry["match"] for value in s.values()}
    | {"shop", "triton-system", "kube-system", "bolt"}
)
labels_strategy = st.dictionaries(st.sampled_from(SELECTING), st.sampled_from(VALUES), max_size=3)


def _outcome(cat, alert, labels):
    try:
        return cat.resolve(alert, labels)
    except ac.ResolveError as error:
        return type(error), str(error)


@settings(max_examples=200, deadline=None)
@given(alias=st.sampled_from(ALIASES), labels=labels_strategy)
def test_any_alias_resolves_like_its_name(cat, alias, labels):
    alias_name, name = alias
    assert _outcome(cat, alias_name, labels) == _outcome(cat, name, labels)


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    labels=labels_strategy,
    extra=st.dictionaries(
        st.sampled_from(["instance", "severity", "container"]), st.text(max_size=5)
    ),
)
def test_labels_no_selector_uses_change_nothing(cat, name, labels, extra):
    def kind(outcome):
        return outcome if isinstance(outcome, dict) else outcome[0]

    assert kind(_outcome(cat, name, {**extra, **labels})) == kind(_outcome(cat, name, labels))


@settings(max_examples=300, deadline=None)
@given(name=st.sampled_from(NAMES), labels=labels_strategy)
def test_a_resolved_entry_agrees_with_the_system_label(cat, name, labels):
    outcome = _outcome(cat, name, labels)
    if isinstance(outcome, dict):
        assert outcome["alert"] == name
        assert labels.get("system", outcome["system"]) == outcome["system"]
        assert outcome == cat.entry(name, outcome["system"])


def test_every_entry_is_what_its_own_system_label_resolves_to(cat):
    for entry in cat:
        assert cat.resolve(entry["alert"], {"system": entry["system"]}) == entry
        for selector in entry["match"]:
            assert cat.resolve(entry["alert"], selector)["system"] == entry["system"]


# ----- the rules and the catalog agree -----


def test_an_identity_field_in_the_catalog_is_refused(tmp_path):
    catalog, rules = _copy(tmp_path)
    _edit_catalog(catalog, lambda entries: entries[0].update(role="other"))
    with pytest.raises(ac.CatalogFileError, match="field 'role': comes from the alerting rule"):
        _load(tmp_path, catalog, rules)


def test_an_entry_without_a_rule_is_refused(tmp_path):
    catalog, rules = _copy(tmp_path)
    _edit_catalog(catalog, lambda entries: entries[0].update(system="bolt"))
    with pytest.raises(ac.CatalogFileError, match=r"no alerting rule .* ServiceLatencyHigh"):
        _load(tmp_path, catalog, rules)


def test_a_rule_without_an_entry_is_refused(tmp_path):
    catalog, rules = _copy(tmp_path)
    _edit_catalog(catalog, lambda entries: entries.pop(0))
    with pytest.raises(
        ac.CatalogFileError, match=r"rule ServiceLatencyHigh .* has no catalog entry"
    ):
        _load(tmp_path, catalog, rules)


def test_levels_follow_the_rules_severities(tmp_path):
    catalog, rules = _copy(tmp_path)

    def drop_levels(entries):
        next(
            e for e in entries if e["alert"] == "HighLatency" and e["system"] == "api-optimizer"
        ).pop("levels")

    _edit_catalog(catalog, drop_levels)
    with pytest.raises(ac.CatalogFileError, match="the rules give severities critical, warning"):
        _load(tmp_path, catalog, rules)


def test_rules_of_one_alert_must_agree_on_the_role(tmp_path):
    catalog, rules = _copy(tmp_path)
    path = rules / "api_optimizer.yml"
    text = path.read_text()
    # api-optimizer's HighLatency is two rules; give the second another role.
    first = text.index("runbook: high_latency")
    second = text.index("runbook: high_latency", first + 1)
    path.write_text(
        text[:second] + "runbook: other_role" + text[second + len("runbook: high_latency") :]
    )
    with pytest.raises(ac.CatalogFileError, match="label runbook 'other_role' differs"):
        _load(tmp_path, catalog, rules)


def test_a_rule_without_its_labels_is_refused(tmp_path):
    catalog, rules = _copy(tmp_path)
    path = rules / "bolt.yml"
    path.write_text(path.read_text().replace("severity: critical", "severity: page", 1))
    with pytest.raises(ac.CatalogFileError, match=r"bolt\.yml: rule .*: label severity 'page'"):
        _load(tmp_path, catalog, rules)


def test_load_reads_again_only_a_changed_file(tmp_path):
    catalog, rules = _copy(tmp_path)
    first = _load(tmp_path, catalog, rules)
    assert _load(tmp_path, catalog, rules) is first
    _edit_catalog(catalog, lambda entries: entries[0].update(aliases=["SlowService"]))
    assert _load(tmp_path, catalog, rules).resolve("SlowService")["alert"] == "ServiceLatencyHigh"


def test_the_resolver_imports_nothing_from_ansible():
    source = ROOT.joinpath("plugins", "plugin_utils", "alert_catalog.py").read_text()
    imports = {
        line.split()[1].split(".")[0]
        for line in source.splitlines()
        if line.startswith(("import ", "from "))
    }
    assert imports <= {"__future__", "copy", "difflib", "os", "re", "yaml"}
