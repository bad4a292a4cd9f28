"""docs/alerts.md is generated from the rules, and every runbook_url points into it."""

import re
from urllib.parse import urlsplit

from sre_runbooks.rules import ALERTS_DOC, load_rules, render_alerts_markdown


def test_alert_reference_is_current_with_the_rules():
    expected = render_alerts_markdown(load_rules())
    assert ALERTS_DOC.read_text() == expected, "docs/alerts.md is stale: run `make docs`"


def test_every_runbook_url_anchor_is_a_heading_of_the_alert_reference():
    headings = {
        line[3:].strip().lower()
        for line in ALERTS_DOC.read_text().splitlines()
        if line.startswith("## ")
    }
    rules = load_rules()
    assert rules, "no alerting rules found"
    for rule in rules:
        url = urlsplit(rule.annotations["runbook_url"])
        assert url.path.endswith("/docs/alerts.md"), rule
        assert url.fragment in headings, f"{rule.alert}: no heading for #{url.fragment}"
        assert re.fullmatch(r"[a-z0-9]+", url.fragment), url.fragment
