"""The ``runbook`` command."""

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sre_runbooks import VERSION
from sre_runbooks._version import COLLECTION_ROOT
from sre_runbooks.catalog import (
    SEVERITIES,
    AlertResolutionError,
    CatalogEntry,
    CatalogFileError,
    load_catalog,
    role_options,
)
from sre_runbooks.monitoring import MissingBinaryError, ServerError, command
from sre_runbooks.payload import InputError, InvalidNameError, validate_k8s_name
from sre_runbooks.rules import AlertRule, load_rules

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _default_rules() -> list[str]:
    return sorted(str(p) for p in (COLLECTION_ROOT / "prometheus" / "rules").glob("*.yml"))


def _monitoring(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir) if args.state_dir else command.default_state_dir()
    if args.action == "up":
        rules = args.rules if args.rules is not None else _default_rules()
        state = command.up(state_dir, rules, args.scrape, args.interval)
    elif args.action == "down":
        stopped = command.down(state_dir)
        state = {"stopped": stopped}
    elif args.action == "alerts":
        return _print_alert_rules(command.alert_rules(state_dir), args.json)
    else:
        state = command.status(state_dir)
    if args.json:
        print(json.dumps(state, indent=2))
    elif args.action == "down":
        print(f"stopped: {', '.join(state['stopped']) or 'nothing was running'}")
    else:
        for name in ("prometheus", "alertmanager"):
            entry = state.get(name)
            if entry:
                word = "running" if entry.get("running") else "stopped"
                print(f"{name:13} {word:8} {entry['url']}  pid {entry['pid']}")
            else:
                print(f"{name:13} stopped")
    return EXIT_OK if args.action != "status" or state.get("running") else EXIT_FAILED


def _print_alert_rules(rules: list[dict[str, object]], as_json: bool) -> int:
    if as_json:
        print(json.dumps(rules, indent=2))
        return EXIT_OK
    columns = ["alert", "severity", "system", "runbook", "for", "state"]
    _table([columns, *([str(rule[c]) for c in columns] for rule in rules)])
    return EXIT_OK


def _namespace_arg(value: str) -> str:
    """argparse type of --namespace: a valid Kubernetes namespace name."""
    try:
        return validate_k8s_name("namespace", value)
    except InvalidNameError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def _target_text(entry: CatalogEntry) -> str:
    target = entry.target
    from_labels = target.get("from_labels") or {}
    parts = []
    for field in ("namespace", "name"):
        if field in from_labels:
            fallback = f" (default {target[field]})" if target.get(field) else ""
            parts.append(f"<label {from_labels[field]}>{fallback}")
        else:
            parts.append(str(target[field]))
    return f"{target['kind']} {parts[0]}/{parts[1]}"


def _check_system(system: str | None) -> None:
    if system is not None and system not in load_catalog().systems():
        systems = ", ".join(load_catalog().systems())
        raise AlertResolutionError(f"unknown system {system!r}; systems: {systems}")


def _list(args: argparse.Namespace) -> int:
    _check_system(args.system)
    selected = load_catalog().entries(system=args.system, severity=args.severity)
    if args.json:
        print(json.dumps([entry.as_dict() for entry in selected], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not selected:
        print("no alert matches these filters")
        return EXIT_OK
    rows = [["alert", "system", "severity", "seed", "role", "target"]]
    rows += [
        [
            entry.alert + (f" ({', '.join(entry.aliases)})" if entry.aliases else ""),
            entry.system,
            "/".join(entry.severities),
            "/".join(entry.level(severity).seed_severity for severity in entry.severities),
            entry.role,
            _target_text(entry),
        ]
        for entry in selected
    ]
    _table(rows)
    return EXIT_OK


def _explained(entry: CatalogEntry, labels: dict[str, str], rules: list[AlertRule]) -> dict:
    """An entry with its rules, its resolved target and its role's options, as data."""
    options = role_options(entry.role)
    target = None
    if labels:
        try:
            target = entry.target_for(labels)
        except AlertResolutionError:
            target = None
    return {
        **entry.as_dict(),
        "target_for_labels": target,
        "rules": [
            {
                "severity": rule.severity,
                "for": rule.duration,
                "expr": rule.expr,
                "file": f"prometheus/rules/{rule.file}",
            }
            for rule in rules
            if rule.alert == entry.alert and rule.system == entry.system
        ],
        "role_available": options is not None,
        "role_options": options,
    }


def _print_explained(entry: CatalogEntry, item: dict) -> None:
    role_note = "" if item["role_available"] else "  (role not yet available)"
    print(f"{entry.alert} ({entry.system})")
    print(f"  {entry.description}")
    if entry.aliases:
        print(f"  aliases:     {', '.join(entry.aliases)}")
    for severity in entry.severities:
        level = entry.level(severity)
        print(f"  severity:    {level.severity} ({level.seed_severity}): {level.condition}")
    print(f"  role:        {entry.role}{role_note}")
    target = item["target_for_labels"]
    if target:
        print(f"  target:      {target['kind']} {target['namespace']}/{target['name']}")
    else:
        print(f"  target:      {_target_text(entry)}")
    for related in entry.raw.get("related", []):
        print(
            f"  related:     {related['kind']} {related['namespace']}/{related['name']}: "
            f"{related['purpose']}"
        )
    for severity in entry.severities:
        steps = entry.level(severity).escalation
        label = f"escalation ({severity})" if len(entry.severities) > 1 else "escalation"
        print(f"  {label}:" + ("" if steps else " none (see notes)"))
        for step in steps:
            contact = f", {step.contact}" if step.contact else ""
            print(f"    after {step.after:>4}  {step.to}{contact}")
    if entry.notes:
        print(f"  notes:       {entry.notes}")
    print(f"  runbook:     {entry.runbook_url}")
    _print_rules_and_options(entry, item)


def _print_rules_and_options(entry: CatalogEntry, item: dict) -> None:
    for rule in item["rules"]:
        print(f"  rule ({rule['severity']}, for {rule['for']}, {rule['file']}):")
        for line in rule["expr"].splitlines():
            print(f"      {line}")
    if item["role_options"]:
        print(f"  role options (roles/{entry.role}/meta/argument_specs.yml):")
        for name, spec in item["role_options"].items():
            default = f" = {spec['default']!r}" if "default" in spec else ""
            print(f"    {name} ({spec.get('type', 'str')}){default}")
    elif item["role_available"]:
        print("  role options: none")


def _explain(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    labels = {
        key: value
        for key, value in (("system", args.system), ("namespace", args.namespace))
        if value is not None
    }
    _check_system(args.system)
    selected = [catalog.resolve(args.alert, labels)] if labels else catalog.by_name(args.alert)
    rules = load_rules()
    explained = [_explained(entry, labels, rules) for entry in selected]
    if args.json:
        print(json.dumps(explained, indent=2, ensure_ascii=False))
        return EXIT_OK
    for position, (entry, item) in enumerate(zip(selected, explained, strict=True)):
        if position:
            print()
        _print_explained(entry, item)
    return EXIT_OK


def _sandbox(args: argparse.Namespace) -> int:
    """``runbook sandbox``: the simulated cluster with real Prometheus and Alertmanager."""
    from sre_runbooks.sandbox import control  # noqa: PLC0415  (only this command needs it)

    state_dir = Path(args.state_dir) if args.state_dir else control.default_state_dir()
    try:
        if args.action == "up":
            state = control.up(state_dir)
        elif args.action == "down":
            state = {"stopped": control.down(state_dir)}
        elif args.action == "inject":
            if not args.alert:
                print("runbook: sandbox inject needs an ALERT", file=sys.stderr)
                return EXIT_BAD_INPUT
            state = control.inject(state_dir, args.alert, args.system)
        elif args.action == "clear":
            state = control.clear(state_dir, args.alert, args.system)
        else:
            state = control.status(state_dir)
    except control.SandboxError as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.json or args.action in {"inject", "clear"}:
        print(json.dumps(state, indent=2))
    elif args.action == "down":
        print(f"stopped: {', '.join(state['stopped']) or 'nothing was running'}")
    else:
        print(f"sandbox      {'running' if state['running'] else 'stopped'}")
        for key in ("kubeconfig", "prometheus_url", "alertmanager_url", "inventory"):
            print(f"{key:16} {state.get(key) or '-'}")
    return EXIT_OK if args.action != "status" or state.get("running") else EXIT_FAILED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook", description="Run incident runbooks of the sre.runbooks collection."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    commands = parser.add_subparsers(dest="command", required=True)

    monitoring = commands.add_parser(
        "monitoring",
        help="real Prometheus and Alertmanager on 127.0.0.1 (test harness, sandbox backend)",
    )
    monitoring.add_argument(
        "action",
        choices=["up", "down", "status", "alerts"],
        help="start, stop, show the servers, or list the alerting rules and their states",
    )
    monitoring.add_argument("--state-dir", help="where PIDs, configs and data live")
    monitoring.add_argument(
        "--rules",
        nargs="*",
        metavar="FILE",
        help="rule files to load (default: the collection's prometheus/rules/*.yml)",
    )
    monitoring.add_argument(
        "--scrape",
        action="append",
        default=[],
        metavar="[JOB=]HOST:PORT",
        help="a target for Prometheus to scrape (repeatable)",
    )
    monitoring.add_argument("--interval", default="1s", help="scrape and evaluation interval")
    monitoring.add_argument("--json", action="store_true", help="print the state as JSON")
    monitoring.set_defaults(handler=_monitoring)

    listing = commands.add_parser("list", help="the alerts of the catalog")
    listing.add_argument("--system", help="only this system's alerts")
    listing.add_argument("--severity", choices=SEVERITIES, help="only alerts of this severity")
    listing.add_argument("--json", action="store_true", help="print the entries as JSON")
    listing.set_defaults(handler=_list)

    explain = commands.add_parser(
        "explain", help="what the catalog and the rules say about an alert"
    )
    explain.add_argument("alert", help="alert name or alias (e.g. HighErrorRate)")
    explain.add_argument("--system", help="the system, for alert names several systems share")
    explain.add_argument(
        "--namespace", type=_namespace_arg, help="the alert's namespace (selects the system)"
    )
    explain.add_argument("--json", action="store_true", help="print the explanation as JSON")
    explain.set_defaults(handler=_explain)

    sandbox = commands.add_parser(
        "sandbox",
        help="a simulated cluster with the seed systems, real Prometheus and Alertmanager",
    )
    sandbox.add_argument(
        "action",
        choices=["up", "down", "status", "inject", "clear"],
        help="start, stop or show the sandbox; inject or clear a fault scenario",
    )
    sandbox.add_argument("alert", nargs="?", help="the alert whose fault to inject or clear")
    sandbox.add_argument("--system", help="the system, for alert names several systems share")
    sandbox.add_argument("--state-dir", help="where PIDs, configs and data live")
    sandbox.add_argument("--json", action="store_true", help="print the state as JSON")
    sandbox.set_defaults(handler=_sandbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        # A command line tool piped into `head` should stop quietly, not with a traceback.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (MissingBinaryError, ServerError, CatalogFileError) as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (AlertResolutionError, InputError) as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
