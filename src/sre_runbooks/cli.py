"""The ``runbook`` command."""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from sre_runbooks import VERSION
from sre_runbooks._version import COLLECTION_ROOT
from sre_runbooks.monitoring import MissingBinaryError, ServerError, command

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
    columns = ("alert", "severity", "system", "runbook", "for", "state")
    rows = [columns, *([str(rule[c]) for c in columns] for rule in rules)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return EXIT_OK


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except (MissingBinaryError, ServerError) as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
