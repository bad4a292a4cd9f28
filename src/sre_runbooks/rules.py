"""The collection's alerting rules as data, and the alert reference page rendered from them.

``docs/alerts.md`` is generated (``make docs``) so that every rule's ``runbook_url`` anchor
exists and the page never disagrees with the rules; a test checks it is current.
"""

import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from sre_runbooks import collection

RULES_PATH = ("prometheus", "rules")
ALERTS_DOC_PATH = ("docs", "alerts.md")
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True)
class AlertRule:
    alert: str
    expr: str
    duration: str
    labels: dict[str, str]
    annotations: dict[str, str]
    file: str

    @property
    def system(self) -> str:
        return self.labels.get("system", "")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "")

    @property
    def runbook(self) -> str:
        return self.labels.get("runbook", "")


def __getattr__(name: str) -> Path:
    """``RULES_DIR`` and ``ALERTS_DOC``: the collection's, located on first use."""
    if name == "RULES_DIR":
        return collection.path(*RULES_PATH)
    if name == "ALERTS_DOC":
        return collection.path(*ALERTS_DOC_PATH)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def load_rules(rules_dir: Path | None = None) -> list[AlertRule]:
    """Every alerting rule in ``rules_dir/*.yml`` (default: the collection's), in file and group
    order."""
    rules_dir = rules_dir or collection.path(*RULES_PATH)
    rules = []
    for path in sorted(rules_dir.glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            rules.extend(
                AlertRule(
                    alert=rule["alert"],
                    expr=rule["expr"].strip(),
                    duration=str(rule.get("for", "0s")),
                    labels=dict(rule.get("labels", {})),
                    annotations=dict(rule.get("annotations", {})),
                    file=path.name,
                )
                for rule in group["rules"]
                if "alert" in rule
            )
    return rules


def anchor(alert: str) -> str:
    """The anchor GitHub gives an alert's heading: ``HighErrorRate`` -> ``higherrorrate``."""
    return alert.lower()


def render_alerts_markdown(rules: list[AlertRule]) -> str:
    """docs/alerts.md: an index table, then one section per alert name with each system's rule."""
    by_name: dict[str, list[AlertRule]] = {}
    for rule in rules:
        by_name.setdefault(rule.alert, []).append(rule)
    lines = [
        "# Alert reference",
        "",
        "<!-- Generated from prometheus/rules/*.yml by `make docs`; do not edit by hand. -->",
        "",
        "Every alert of the encoded runbooks, as the rules in `prometheus/rules/` define it. The",
        "`runbook` label names the role that remediates it; the same alert name may exist for",
        "several systems, told apart by the `system` label and the series' namespace.",
        "",
        "| alert | system | severity | for | role |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| [{rule.alert}](#{anchor(rule.alert)}) | {rule.system} | {rule.severity} "
        f"| {rule.duration} | `{rule.runbook}` |"
        for rule in rules
    ]
    for name, group in by_name.items():
        lines += ["", f"## {name}"]
        ordered = sorted(group, key=lambda r: (r.system, SEVERITY_ORDER.get(r.severity, 9)))
        for rule in ordered:
            lines += [
                "",
                f"### {rule.system}, {rule.severity}",
                "",
                rule.annotations.get("summary", ""),
                "",
                f"- fires after: {rule.duration}",
                f"- role: `{rule.runbook}`",
                f"- rule file: `prometheus/rules/{rule.file}`",
                "",
                "```promql",
                rule.expr,
                "```",
            ]
    return "\n".join(lines) + "\n"


def main() -> int:
    doc = collection.path(*ALERTS_DOC_PATH)
    doc.write_text(render_alerts_markdown(load_rules()))
    print(f"wrote {doc}")  # noqa: T201  (command output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
