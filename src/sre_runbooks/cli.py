"""The ``runbook`` command."""

import argparse
import json
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from sre_runbooks import VERSION, collection, sandbox_install
from sre_runbooks import run as runs
from sre_runbooks.catalog import (
    SEVERITIES,
    AlertResolutionError,
    Catalog,
    CatalogEntry,
    CatalogFileError,
    load_catalog,
    role_options,
    role_remediation,
)
from sre_runbooks.monitoring import MissingBinaryError, ServerError, command
from sre_runbooks.payload import (
    InputError,
    InvalidNameError,
    parse_extra_vars,
    parse_labels,
    parse_payload,
    validate_k8s_name,
)
from sre_runbooks.progress import Progress
from sre_runbooks.report import summary_lines
from sre_runbooks.rules import AlertRule, load_rules

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNRESOLVED = 3

EXIT_CODES_HELP = """exit codes:
  0  resolved, or nothing to do (the alert no longer fires, or planned in check mode)
  1  failed: the run failed or refused to act, or the playbook wrote no report
  2  bad input, nothing ran: unknown alert, bad payload, invalid names, -e or --label pairs, no
     role for the alert yet, no sandbox and no inventory
  3  mitigated but not resolved by the deadline, or a risky action awaits approval (--yes)
  4  held back while the alert fires: another run holds an object it would change, or the
     alert's cooldown or the object's budget of mitigations runs (the report says which)
with several alerts or hosts the worst code wins (2, 1, 3, 4, then 0)."""


COLLECTION_PATH_HELP = (
    "the sre.runbooks collection to use: a collections directory, or the collection's own "
    f"(default: ${collection.ENV}, else the checkout the launcher runs from, else where Ansible "
    "finds collections)"
)


def _default_rules() -> list[str]:
    return sorted(str(p) for p in collection.path("prometheus", "rules").glob("*.yml"))


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
        listed = [
            {**entry.as_dict(), "available": runs.role_available(entry)} for entry in selected
        ]
        print(json.dumps(listed, indent=2, ensure_ascii=False))
        return EXIT_OK
    if not selected:
        print("no alert matches these filters")
        return EXIT_OK
    rows = [["alert", "system", "severity", "seed", "role", "available", "target"]]
    rows += [
        [
            entry.alert + (f" ({', '.join(entry.aliases)})" if entry.aliases else ""),
            entry.system,
            "/".join(entry.severities),
            "/".join(entry.level(severity).seed_severity for severity in entry.severities),
            entry.role,
            "yes" if runs.role_available(entry) else "no",
            _target_text(entry),
        ]
        for entry in selected
    ]
    _table(rows)
    return EXIT_OK


def _explained(entry: CatalogEntry, labels: dict[str, str], rules: list[AlertRule]) -> dict:
    """An entry with its rules, its resolved target and its role's options, as data."""
    remediation = role_remediation(entry.role, entry.system)
    options = role_options(entry.role) if remediation else None
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
        "role_available": remediation is not None,
        "role_options": options,
        "phases": remediation["phases"] if remediation else [],
        "mitigations": remediation["rules"] if remediation else [],
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
    if item["phases"]:
        print("  phases:")
        for phase in item["phases"]:
            print(f"    {phase}")
        print(f"  mitigations, in order (roles/{entry.role}/defaults/main.yml):")
        for rule in item["mitigations"]:
            approval = ", needs approval" if rule["risky"] else ""
            print(f"    {rule['action']} ({rule['type']}{approval}): {rule['description']}")
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
    control = sandbox_install.control()  # only this command needs it

    state_dir = Path(args.state_dir) if args.state_dir else control.default_state_dir()
    simple = {
        "up": lambda: control.up(state_dir),
        "down": lambda: {"stopped": control.down(state_dir)},
        "clear": lambda: control.clear(state_dir, args.alert, args.system),
        "reset": lambda: control.reset(state_dir),
        "status": lambda: control.status(state_dir),
    }
    try:
        if args.action == "inject":
            if not args.alert:
                print("runbook: sandbox inject needs an ALERT", file=sys.stderr)
                return EXIT_BAD_INPUT
            state = control.inject(state_dir, args.alert, args.system)
            if args.wait:
                system = str(state["injected"]).rpartition("/")[2]
                state["fired_after_seconds"] = round(
                    control.wait_firing(state_dir, args.alert, system), 1
                )
        else:
            state = simple[args.action]()
    except control.SandboxError as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.json or args.action in {"inject", "clear", "reset"}:
        print(json.dumps(state, indent=2))
    elif args.action == "down":
        print(f"stopped: {', '.join(state['stopped']) or 'nothing was running'}")
    else:
        print(f"sandbox      {'running' if state['running'] else 'stopped'}")
        for key in ("kubeconfig", "prometheus_url", "alertmanager_url", "inventory"):
            print(f"{key:16} {state.get(key) or '-'}")
    return EXIT_OK if args.action != "status" or state.get("running") else EXIT_FAILED


def _keep_arg(value: str) -> int:
    """argparse type of --keep: a positive number of run directories."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"--keep must be a positive integer, not {value!r}")
    return number


def _plan(args: argparse.Namespace, catalog: Catalog) -> tuple[runs.Target, runs.PayloadPlan]:
    """Every check before anything runs; the target and the jobs."""
    if args.alert_file is not None:
        if args.alert or args.namespace or args.system or args.label:
            raise InputError(
                "give either ALERT (with --namespace/--system/--label) or --alert-file: "
                "a payload carries its alerts' labels"
            )
        source = sys.stdin.buffer if args.alert_file == "-" else args.alert_file
        data = runs.read_payload_bytes(source)
        for alert in parse_payload(data):  # reported before the target is looked at
            runs.check_role(catalog.resolve(alert.alertname, alert.labels), args.roles_dir)
        target = runs.resolve_target(args.inventory)
        plan = runs.plan_payload(catalog, data, target, limit=args.limit, roles_dir=args.roles_dir)
        return target, plan
    if not args.alert:
        raise InputError("give an ALERT name or --alert-file FILE (- for stdin)")
    job = runs.plan_named(
        catalog,
        args.alert,
        namespace=args.namespace,
        system=args.system,
        labels=parse_labels(args.label),
        limit=args.limit,
        roles_dir=args.roles_dir,
    )
    target = runs.resolve_target(args.inventory)
    runs.check_job_target(job, target)
    return target, runs.PayloadPlan([job], [])


def _print_results(results: list[runs.RunResult], as_json: bool) -> None:
    if as_json:
        print(json.dumps([result.as_dict() for result in results], indent=2, ensure_ascii=False))
        return
    for position, result in enumerate(results):
        if position:
            print()
        if not result.reports:
            print(f"{result.name} ({result.system or '-'}): runner {result.status}, rc {result.rc}")
        for item in result.reports:
            for line in summary_lines(
                item["report"] | {"cluster": item["cluster"]}, item["json"], item["md"]
            ):
                print(line)
        if result.status != "successful":
            print(f"  playbook:     {result.status} (rc {result.rc})")
        print(f"  artifacts:    {result.run_dir}")


def _run(args: argparse.Namespace) -> int:
    """``runbook run``: remediate one alert, or every firing alert of a webhook payload."""
    extra = parse_extra_vars(args.extra_vars)
    target, plan = _plan(args, load_catalog())
    print(f"target: {target.description}", file=sys.stderr)
    for line in plan.skipped:
        print(f"skipped: {line}", file=sys.stderr)
    if not plan.jobs:
        print("nothing to run: no firing alert", file=sys.stderr)
        if args.json:
            print("[]")
        return EXIT_OK
    root = runs.artifacts_root(args.artifacts_dir)
    results = []
    for job in plan.jobs:
        where = f" on {job.limit}" if job.limit else ""
        check = " in check mode" if args.check else ""
        print(f"==> {job.alert} ({job.entry.system}){where}{check}", file=sys.stderr)
        results.append(
            runs.remediate(
                job,
                root=root,
                inventory=target.inventory,
                extra=extra,
                check=args.check,
                approve=args.yes,
                playbooks_dir=args.playbooks_dir,
                event_handler=Progress(sys.stderr),
            )
        )
    runs.prune(root, args.keep)
    _print_results(results, args.json)
    return runs.worst_exit(result.exit_code for result in results)


def _maintenance(args: argparse.Namespace) -> int:
    """``runbook maintenance daily|weekly``: the collection's maintenance playbooks."""
    playbook = runs.maintenance_playbook(args.kind, args.playbooks_dir)
    target = runs.resolve_target(args.inventory)
    print(f"target: {target.description}", file=sys.stderr)
    root = runs.artifacts_root(args.artifacts_dir)
    result = runs.execute(
        playbook,
        target.inventory,
        {"sre_runbooks_maintenance": args.kind},
        name=f"maintenance-{args.kind}",
        root=root,
        check=args.check,
        event_handler=Progress(sys.stderr),
        require_report=False,
    )
    runs.prune(root, args.keep)
    _print_results([result], args.json)
    return result.exit_code


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--inventory", metavar="PATH", help="the clusters' inventory (default: the running sandbox)"
    )
    parser.add_argument("--check", action="store_true", help="plan only: Ansible's check mode")
    parser.add_argument(
        "--json", action="store_true", help="print one JSON document with the results"
    )
    parser.add_argument(
        "--artifacts-dir",
        metavar="DIR",
        help=f"where run directories go (default ${runs.ARTIFACTS_ENV}, else "
        "$XDG_STATE_HOME/sre-runbooks/runs)",
    )
    parser.add_argument(
        "--keep",
        type=_keep_arg,
        default=runs.DEFAULT_KEEP,
        metavar="N",
        help=f"keep the newest N run directories (default {runs.DEFAULT_KEEP})",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="runbook", description="Run incident runbooks of the sre.runbooks collection."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {VERSION}")
    parser.add_argument("--collection-path", metavar="PATH", help=COLLECTION_PATH_HELP)
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
        choices=["up", "down", "status", "inject", "clear", "reset"],
        help="start, stop or show the sandbox; inject or clear a fault scenario; reset: back "
        "to the state `up` created, returning once no alert is pending or firing",
    )
    sandbox.add_argument("alert", nargs="?", help="the alert whose fault to inject or clear")
    sandbox.add_argument("--system", help="the system, for alert names several systems share")
    sandbox.add_argument("--state-dir", help="where PIDs, configs and data live")
    sandbox.add_argument(
        "--wait", action="store_true", help="inject: return once the alert fires in Prometheus"
    )
    sandbox.add_argument("--json", action="store_true", help="print the state as JSON")
    sandbox.set_defaults(handler=_sandbox)

    run = commands.add_parser(
        "run",
        help="remediate an alert, or every firing alert of an Alertmanager payload",
        description="Run an alert's remediation (playbooks/remediate.yml) through ansible-runner,\n"
        "with live progress on stderr and a summary on stdout (docs/launcher.md).",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("alert", nargs="?", help="alert name or alias (e.g. HighErrorRate)")
    run.add_argument(
        "--alert-file",
        metavar="FILE",
        help="an Alertmanager webhook payload (version 4); - reads stdin",
    )
    run.add_argument(
        "--namespace", type=_namespace_arg, help="the alert's namespace (selects the system)"
    )
    run.add_argument("--system", help="the system, for alert names several systems share")
    run.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a label of the alert, as Alertmanager would send it (repeatable), e.g. "
        "--label pod=NAME; --namespace and --system are labels too",
    )
    run.add_argument(
        "-e",
        "--extra-vars",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a variable for the role (repeatable; values are never templated)",
    )
    run.add_argument("--limit", metavar="CLUSTER", help="only this inventory host or group")
    run.add_argument("--yes", action="store_true", help="approve risky actions")
    _add_run_options(run)
    run.set_defaults(handler=_run)

    maintenance = commands.add_parser(
        "maintenance",
        help="the daily or weekly maintenance playbook",
        epilog="exit codes: 0 done, 1 failed, 2 bad input or playbook not available",
    )
    maintenance.add_argument("kind", choices=sorted(runs.MAINTENANCE_PLAYBOOKS))
    _add_run_options(maintenance)
    maintenance.set_defaults(handler=_maintenance)
    for sub in commands.choices.values():  # also after the command's name
        sub.add_argument(
            "--collection-path",
            metavar="PATH",
            default=argparse.SUPPRESS,
            help=COLLECTION_PATH_HELP,
        )
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    playbooks_dir: Path | None = None,
    roles_dir: Path | None = None,
) -> int:
    """The command; ``playbooks_dir`` and ``roles_dir`` replace the collection's (tests)."""
    if argv is None:
        # A command line tool piped into `head` should stop quietly, not with a traceback.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args = build_parser().parse_args(argv)
    args.playbooks_dir = playbooks_dir
    args.roles_dir = roles_dir
    collection.use(args.collection_path)
    try:
        return int(args.handler(args))
    except (
        MissingBinaryError,
        ServerError,
        CatalogFileError,
        sandbox_install.SandboxNotInstalledError,
    ) as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (AlertResolutionError, InputError, collection.CollectionNotFoundError) as error:
        print(f"runbook: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
