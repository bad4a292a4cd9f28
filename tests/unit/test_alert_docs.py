"""docs/alerts.md is generated from the rules, and every runbook_url points into it.

The rule files as shipped link to ``docs/alerts.md#<alert>`` in the collection; installed with
``--runbook-base URL``, every rule links to ``URL/alerts.md#<alert>`` and nothing else changes.
"""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from sre_runbooks import rules as alert_rules
from sre_runbooks.rules import (
    RUNBOOK_BASE,
    RunbookBaseError,
    anchor,
    install_rules,
    load_rules,
    render_alerts_markdown,
    render_rule_file,
    runbook_url,
)

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "prometheus" / "rules"
ALERTS_DOC = ROOT / "docs" / "alerts.md"


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub and GitLab give the headings of a page (lower case, spaces to '-',
    punctuation other than '-' and '_' dropped)."""
    return {
        re.sub(r"[^a-z0-9 _-]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in markdown.splitlines()
        if line.startswith("#")
    }


def test_alert_reference_is_current_with_the_rules():
    expected = render_alerts_markdown(load_rules(RULES_DIR))
    assert ALERTS_DOC.read_text() == expected, "docs/alerts.md is stale: run `make docs`"


def test_every_shipped_runbook_url_is_a_section_of_the_shipped_reference():
    anchors = github_anchors(ALERTS_DOC.read_text())
    rules = load_rules(RULES_DIR)
    assert len(rules) >= 28
    for rule in rules:
        url = urlsplit(rule.annotations["runbook_url"])
        assert rule.annotations["runbook_url"] == f"docs/alerts.md#{rule.alert.lower()}", rule
        # Relative to the collection's root, it is the shipped page, and the section exists.
        assert (ROOT / url.path).resolve() == ALERTS_DOC.resolve(), rule.alert
        assert url.fragment in anchors, f"{rule.alert}: no heading for #{url.fragment}"


def test_the_shipped_rule_files_are_rendered_with_the_default_base():
    for path in sorted(RULES_DIR.glob("*.yml")):
        text = path.read_text()
        assert render_rule_file(text) == text, f"{path.name}: a runbook_url is not the default"


BASE = "https://git.example.com/sre/runbooks/-/blob/main/docs/"


def test_a_custom_base_is_applied_to_every_rule_and_changes_nothing_else(tmp_path):
    written = install_rules(RULES_DIR, tmp_path / "installed", BASE)
    sources = sorted(RULES_DIR.glob("*.yml"))
    assert [path.name for path in written] == [path.name for path in sources]
    installed = load_rules(tmp_path / "installed")
    shipped = load_rules(RULES_DIR)
    assert len(installed) == len(shipped)
    for before, after in zip(shipped, installed, strict=True):
        assert after.annotations["runbook_url"] == (
            f"https://git.example.com/sre/runbooks/-/blob/main/docs/alerts.md#{anchor(after.alert)}"
        )
        assert (after.alert, after.expr, after.duration, after.labels) == (
            before.alert,
            before.expr,
            before.duration,
            before.labels,
        )
        assert {k: v for k, v in after.annotations.items() if k != "runbook_url"} == {
            k: v for k, v in before.annotations.items() if k != "runbook_url"
        }
    for source, target in zip(sources, written, strict=True):
        changed = [
            (old, new)
            for old, new in zip(
                source.read_text().splitlines(), target.read_text().splitlines(), strict=True
            )
            if old != new
        ]
        assert changed
        assert all("runbook_url:" in old and "runbook_url:" in new for old, new in changed)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("file:///opt/collections/ansible_collections/sre/runbooks/docs", None),
        ("https://wiki.example.com:8443/sre", None),
        ("*docs", None),  # YAML would read a plain *docs as an alias: written quoted
        ("@docs", None),
        ("docs///", "docs/alerts.md#podrestart"),
    ],
)
def test_any_url_or_path_prefix_reads_back_as_the_url(base, expected):
    text = (RULES_DIR / "nimify.yml").read_text()
    document = yaml.safe_load(render_rule_file(text, base))
    (podrestart,) = [
        rule for rule in document["groups"][0]["rules"] if rule.get("alert") == "PodRestart"
    ]
    assert podrestart["annotations"]["runbook_url"] == (expected or f"{base}/alerts.md#podrestart")


BAD_BASES = ["", "/", "https://x/a b", 'a"b', "a'b", "{{ $externalURL }}", "x#y", "x?y", "a\\b"]


@pytest.mark.parametrize("base", BAD_BASES)
def test_a_bad_base_is_refused_and_nothing_is_written(tmp_path, capsys, base):
    with pytest.raises(RunbookBaseError, match="is not a URL or path prefix"):
        runbook_url("PodRestart", base)
    target = tmp_path / "installed"
    code = alert_rules.main(["install", str(target), "--runbook-base", base])
    assert code == 2
    assert "is not a URL or path prefix" in capsys.readouterr().err
    assert not target.exists()


def test_install_writes_the_rule_files(tmp_path, capsys):
    target = tmp_path / "installed"
    assert alert_rules.main(["install", str(target), "--runbook-base", BASE]) == 0
    out = capsys.readouterr().out
    assert out.count("wrote ") == len(list(RULES_DIR.glob("*.yml")))
    assert (
        "runbook_url: https://git.example.com/sre/runbooks/-/blob/main/docs/alerts.md#podrestart"
        in ((target / "nimify.yml").read_text())
    )
    assert alert_rules.main(["install", str(tmp_path / "default")]) == 0
    assert (tmp_path / "default" / "nimify.yml").read_text() == (
        RULES_DIR / "nimify.yml"
    ).read_text()
    assert RUNBOOK_BASE == "docs"


def test_a_rule_without_a_runbook_url_is_an_error():
    text = "groups:\n  - name: g\n    rules:\n      - alert: Lonely\n        expr: vector(1)\n"
    with pytest.raises(ValueError, match="rule Lonely: no runbook_url annotation"):
        render_rule_file(text, BASE)
