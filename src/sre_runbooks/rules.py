"""The collection's alerting rules as data, and the alert reference page rendered from them.

``docs/alerts.md`` is generated (``make docs``) so that every rule's ``runbook_url`` anchor
exists and the page never disagrees with the rules; a test checks it is current.

Every rule's ``runbook_url`` is ``<base>/alerts.md#<alert in lower case>``. The rule files of
the collection use the base ``docs``: the docs shipped with the collection, relative to its root
(``docs/alerts.md#podrestart``). ``python -m sre_runbooks.rules install DIR --runbook-base URL``
writes the rule files with another base, e.g. where an on-call engineer can open these docs.
"""

import argparse
import json
import re
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


# -- runbook_url: one base for every rule ----------------------------------------------------------

RUNBOOK_BASE = "docs"
"""The base of the rule files as shipped: the collection's docs, relative to its root."""

# A URL or path to put "/alerts.md#anchor" after: no spaces, quotes, template braces (Prometheus
# expands annotations as templates), query or fragment of its own.
_RUNBOOK_BASE = re.compile(r"[^\s\"'`<>{}#?\\]+")
_ALERT_LINE = re.compile(r"\s*-\s+alert:\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*")
_RUNBOOK_URL_LINE = re.compile(r"(?P<indent>\s+)runbook_url:.*")


class RunbookBaseError(ValueError):
    """A ``--runbook-base`` that cannot start a runbook URL."""


def runbook_base(base: str) -> str:
    """``base`` without its trailing ``/``, or RunbookBaseError."""
    trimmed = base.rstrip("/")
    if not _RUNBOOK_BASE.fullmatch(trimmed):
        raise RunbookBaseError(
            f"runbook base {base!r} is not a URL or path prefix: no spaces, quotes, "
            "brackets, braces, '?', '#' or backslashes"
        )
    return trimmed


def runbook_url(alert: str, base: str = RUNBOOK_BASE) -> str:
    """``<base>/alerts.md#<anchor>``: the section of docs/alerts.md on ``alert``."""
    return f"{runbook_base(base)}/alerts.md#{anchor(alert)}"


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when YAML reads it back unchanged, else double-quoted."""
    try:
        if yaml.safe_load(f"value: {text}") == {"value": text}:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text)


def render_rule_file(text: str, base: str = RUNBOOK_BASE) -> str:
    """A rule file's text with every ``runbook_url`` annotation set to ``runbook_url(alert,
    base)`` for the alert of the rule it belongs to; every other line (comments, expressions)
    stays as it is. A rule without a ``runbook_url`` annotation is a ValueError."""
    url_base = runbook_base(base)
    lines = text.splitlines(keepends=True)
    alert = None
    for number, line in enumerate(lines):
        body = line.rstrip("\r\n")
        if match := _ALERT_LINE.fullmatch(body):
            alert = match["name"]
        elif (match := _RUNBOOK_URL_LINE.fullmatch(body)) and alert is not None:
            value = _yaml_scalar(runbook_url(alert, url_base))
            lines[number] = f"{match['indent']}runbook_url: {value}{line[len(body) :]}"
    rendered = "".join(lines)
    for group in yaml.safe_load(rendered)["groups"]:
        for rule in group["rules"]:
            if "alert" not in rule:
                continue
            url = (rule.get("annotations") or {}).get("runbook_url")
            if url != runbook_url(rule["alert"], url_base):
                raise ValueError(f"rule {rule['alert']}: no runbook_url annotation to set")
    return rendered


def install_rules(rules_dir: Path, destination: Path, base: str = RUNBOOK_BASE) -> list[Path]:
    """Write the rule files of ``rules_dir`` into ``destination`` with every ``runbook_url``
    under ``base``; returns the files written. Nothing is written when a file cannot be
    rendered."""
    sources = sorted(rules_dir.glob("*.yml"))
    rendered = {path.name: render_rule_file(path.read_text(), base) for path in sources}
    destination.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in rendered.items():
        (destination / name).write_text(text)
        written.append(destination / name)
    return written


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
        "Each rule's `runbook_url` annotation links to its alert's section below:",
        f"`<base>/alerts.md#<alert in lower case>`, with the base `{RUNBOOK_BASE}` in the rule",
        "files as shipped, i.e. this page in the collection (relative to its root). To give",
        "Alertmanager and its notifications a link an on-call engineer can open, install the",
        "rules with the address where these docs are served:",
        "`python -m sre_runbooks.rules install DIR --runbook-base URL` writes every rule file to",
        "DIR with `URL/alerts.md#<alert>` (e.g. `--runbook-base",
        "https://git.example.com/sre/runbooks/-/blob/main/docs`, or the `file://` URL of the",
        "collection's `docs` directory on the engineer's machine).",
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


def _install(argv: list[str], rules_dir: Path) -> int:
    """``python -m sre_runbooks.rules install DIR [--runbook-base URL]``."""
    parser = argparse.ArgumentParser(
        prog="python -m sre_runbooks.rules install",
        description="Write the collection's alerting rules into DIR, every runbook_url under "
        "one base: BASE/alerts.md#<alert in lower case>.",
    )
    parser.add_argument("directory", metavar="DIR", help="where the rule files go")
    parser.add_argument(
        "--runbook-base",
        default=RUNBOOK_BASE,
        metavar="URL",
        help="where docs/alerts.md's directory is served, e.g. "
        "https://git.example.com/sre/runbooks/-/blob/main/docs "
        f"(default: {RUNBOOK_BASE}, the collection's docs relative to its root)",
    )
    args = parser.parse_args(argv)
    try:
        written = install_rules(rules_dir, Path(args.directory), args.runbook_base)
    except ValueError as error:
        print(f"sre_runbooks.rules: {error}; nothing was written", file=sys.stderr)  # noqa: T201
        return 2
    for path in written:
        print(f"wrote {path}")  # noqa: T201  (command output)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Write docs/alerts.md (``make docs``), or ``install`` the rule files elsewhere."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    if arguments[:1] == ["install"]:
        return _install(arguments[1:], collection.path(*RULES_PATH))
    doc = collection.path(*ALERTS_DOC_PATH)
    doc.write_text(render_alerts_markdown(load_rules()))
    print(f"wrote {doc}")  # noqa: T201  (command output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
