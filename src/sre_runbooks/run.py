"""``runbook run`` and ``runbook maintenance``: one ansible-runner run per alert.

Everything that can be checked is checked before anything runs (``plan_*``): the alert names
against the catalog, the role's presence, the label values used as Kubernetes names, the
``cluster`` label against the inventory's hosts and the ``-e`` pairs. Only then ``execute`` runs
each job through ``ansible_runner.run()``, one private data directory per run:

    <artifacts root>/<run id>/
        env/extravars           the variables, one YAML mapping tagged !unsafe
        artifacts/<run id>/     ansible-runner's artifacts (events, stdout, rc, status)
        report/<host>/          report.json and report.md written by the playbook

docs/launcher.md describes the contract with ``playbooks/remediate.yml`` and the exit codes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import yaml

from sre_runbooks import collection, sandbox_install
from sre_runbooks.catalog import AlertResolutionError, Catalog, CatalogEntry, role_remediation
from sre_runbooks.payload import (
    MAX_PAYLOAD_BYTES,
    Alert,
    InputError,
    PayloadError,
    parse_payload,
)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_UNRESOLVED = 3
EXIT_HELD_BACK = 4

REMEDIATE_PLAYBOOK = "remediate.yml"
MAINTENANCE_PLAYBOOKS = {"daily": "maintenance_daily.yml", "weekly": "maintenance_weekly.yml"}
ARTIFACTS_ENV = "SRE_RUNBOOKS_ARTIFACTS_DIR"
DEFAULT_KEEP = 50

OUTCOME_EXIT: dict[str, int] = {
    "resolved": EXIT_OK,
    "not_firing": EXIT_OK,
    # Held back while the alert still fires: another run holds an object, or the cooldown or
    # the budget of mitigations runs. Not resolved, so never 0.
    "cooldown": EXIT_HELD_BACK,
    "locked": EXIT_HELD_BACK,
    "budget": EXIT_HELD_BACK,
    "planned": EXIT_OK,
    "approval_required": EXIT_UNRESOLVED,
    "unresolved": EXIT_UNRESOLVED,
    # Verification left out (sre_runbooks_verify=false): mitigated, not known to be resolved.
    "mitigated": EXIT_UNRESOLVED,
    "refused": EXIT_FAILED,
    "failed": EXIT_FAILED,
}
"""Exit code of each report outcome; an unknown outcome counts as failed."""

_SEVERITY_OF_EXIT = {
    EXIT_OK: 0,
    EXIT_HELD_BACK: 1,
    EXIT_UNRESOLVED: 2,
    EXIT_FAILED: 3,
    EXIT_BAD_INPUT: 4,
}
_RUN_ID = re.compile(r"[0-9]{8}T[0-9]{6}Z-[a-z0-9-]+")

# Environment variables whose values may appear in ansible-runner's `command` artifact. Every
# other variable keeps its name there, with its value replaced (tokens live in the environment).
_SHOWN_ENV = frozenset(
    {
        "ANSIBLE_CONFIG",
        "ANSIBLE_COLLECTIONS_PATH",
        "HOME",
        "K8S_AUTH_CONTEXT",
        "K8S_AUTH_KUBECONFIG",
        "KUBECONFIG",
        "LANG",
        "LC_ALL",
        "PATH",
        "PYTHONPATH",
        "VIRTUAL_ENV",
    }
)
REDACTED = "<redacted>"


class NoRoleError(InputError):
    """The catalog maps the alert to a role the collection does not have yet."""


class TargetError(InputError):
    """No inventory to run against, or a cluster that is not one of its hosts."""


class UnavailableError(InputError):
    """A playbook the command needs is not part of the collection yet."""


def worst_exit(codes: Iterable[int]) -> int:
    """The exit code of several results: 2 > 1 > 3 > 0."""
    return max(codes, key=lambda code: _SEVERITY_OF_EXIT.get(code, 2), default=EXIT_OK)


def outcome_exit(outcome: object) -> int:
    return OUTCOME_EXIT.get(outcome, EXIT_FAILED) if isinstance(outcome, str) else EXIT_FAILED


# -- extra variables, never templated ------------------------------------------------------------


class _UnsafeDocument(dict):
    """The root mapping of the extra variables file, written with the ``!unsafe`` tag."""


class _ExtravarsDumper(yaml.SafeDumper):
    pass


def _represent_document(dumper: yaml.SafeDumper, value: _UnsafeDocument) -> yaml.MappingNode:
    return dumper.represent_mapping("!unsafe", dict(value))


def _represent_text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Quoted: a quoted scalar is a string whatever its text ("yes", "12", "null", "").
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')


_ExtravarsDumper.add_representer(_UnsafeDocument, _represent_document)
_ExtravarsDumper.add_representer(str, _represent_text)


def extravars_text(variables: Mapping[str, Any]) -> str:
    """The YAML ansible-playbook reads with ``-e @file``: one mapping tagged ``!unsafe``.

    Ansible never templates a value loaded under ``!unsafe`` (the tag reaches every value inside
    the mapping), so label, annotation and ``-e`` text such as ``{{ lookup('pipe', ...) }}``
    stays text. Strings are double-quoted so that they stay strings: ``!unsafe`` on a scalar
    would resolve ``"yes"`` to a boolean, hence the tag on the mapping and not on each value.
    """
    body = yaml.dump(
        _UnsafeDocument(variables),
        Dumper=_ExtravarsDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=2**16,
    )
    return "--- " + body


def write_extravars(private_data_dir: Path, variables: Mapping[str, Any]) -> Path:
    """Write ``env/extravars``; ansible-runner passes it as ``-e @<file>`` (no ``extravars=``)."""
    env_dir = private_data_dir / "env"
    env_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = env_dir / "extravars"
    path.write_text(extravars_text(variables), encoding="utf-8")
    path.chmod(0o600)
    return path


# -- targets ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """The inventory a run uses, its hosts and groups, and how to describe it."""

    inventory: Path
    hosts: tuple[str, ...]
    groups: tuple[str, ...]
    description: str


_YAML_SUFFIXES = (".yml", ".yaml")
_VARS_DIRS = ("group_vars", "host_vars")


def _walk_yaml_group(name: str, group: object, hosts: set[str], groups: set[str]) -> bool:
    """Collect the names of one group of a YAML inventory; False when it is not plain YAML."""
    if group is None:
        groups.add(name)
        return True
    if not isinstance(group, dict) or set(group) - {"hosts", "children", "vars"}:
        return False
    groups.add(name)
    members = group.get("hosts") or {}
    children = group.get("children") or {}
    if not isinstance(members, dict) or not isinstance(children, dict):
        return False
    hosts.update(str(host) for host in members)
    return all(
        _walk_yaml_group(str(child), body, hosts, groups) for child, body in children.items()
    )


def _yaml_inventory_files(path: Path) -> list[Path] | None:
    """The YAML files of an inventory file or directory; None when any source is not YAML."""
    files = [path]
    if path.is_dir():
        files = sorted(entry for entry in path.iterdir() if entry.name not in _VARS_DIRS)
    if any(not file.is_file() or file.suffix not in _YAML_SUFFIXES for file in files):
        return None
    return files


def _yaml_inventory(path: Path) -> tuple[set[str], set[str]] | None:
    """Host and group names of a plain YAML inventory (file, or directory of such files).

    None for anything else (INI, scripts, inventory plugins, host ranges): Ansible reads those.
    Reading YAML directly saves the second that loading Ansible's inventory machinery takes.
    """
    hosts: set[str] = set()
    groups: set[str] = set()
    for file in _yaml_inventory_files(path) or []:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return None
        plain = isinstance(document, dict) and "plugin" not in document
        if not plain or not all(
            _walk_yaml_group(str(name), group, hosts, groups) for name, group in document.items()
        ):
            return None
    if not groups or any("[" in host for host in hosts):  # web[01:10] is a range
        return None
    return hosts, groups - {"all", "ungrouped"}


def read_inventory(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The host and group names of an inventory file or directory, parsed in-process."""
    if not path.exists():
        raise TargetError(f"inventory {path} does not exist")
    names = _yaml_inventory(path)
    if names is not None:
        if not names[0]:
            raise TargetError(f"inventory {path} has no hosts")
        return tuple(sorted(names[0])), tuple(sorted(names[1]))
    from ansible.inventory.manager import InventoryManager  # noqa: PLC0415  (slow import)
    from ansible.parsing.dataloader import DataLoader  # noqa: PLC0415  (slow import)

    manager = InventoryManager(loader=DataLoader(), sources=[str(path)])
    hosts = tuple(sorted(host.name for host in manager.get_hosts()))
    if not hosts:
        raise TargetError(f"inventory {path} has no hosts")
    groups = tuple(sorted(name for name in manager.groups if name not in {"all", "ungrouped"}))
    return hosts, groups


def resolve_target(inventory: str | None, sandbox_state_dir: Path | None = None) -> Target:
    """The given inventory, else the running sandbox's; TargetError when there is neither."""
    if inventory:
        path = Path(inventory).expanduser().resolve()
        hosts, groups = read_inventory(path)
        return Target(path, hosts, groups, f"inventory {path}")
    try:
        control = sandbox_install.control()  # only without --inventory
    except sandbox_install.SandboxNotInstalledError as error:
        raise TargetError(f"no inventory given (--inventory PATH), and {error}") from None

    state_dir = sandbox_state_dir or control.default_state_dir()
    state = control.status(state_dir)
    if not state["running"]:
        raise TargetError(
            "no inventory given and no sandbox running: start one with `runbook sandbox up`, "
            "or pass --inventory PATH"
        )
    path = Path(state["state_dir"]) / "inventory"
    hosts, groups = read_inventory(path)
    return Target(path, hosts, groups, f"sandbox ({state['kubeconfig']})")


# -- planning --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One remediation to run: an alert, the entry it resolved to, and where."""

    alert: str
    entry: CatalogEntry
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    starts_at: str = ""
    limit: str | None = None


def role_available(entry: CatalogEntry, roles_dir: Path | None = None) -> bool:
    """Whether the entry's role exists and remediates the entry's system."""
    return role_remediation(entry.role, entry.system, roles_dir) is not None


def check_role(entry: CatalogEntry, roles_dir: Path | None) -> None:
    if not role_available(entry, roles_dir):
        raise NoRoleError(
            f"no remediation role for {entry.alert} ({entry.system}) yet; "
            "`runbook list` shows which alerts have one"
        )


def _limit_for(labels: Mapping[str, str], limit: str | None, target: Target) -> str | None:
    cluster = labels.get("cluster")
    if cluster is not None and cluster not in target.hosts:
        raise TargetError(
            f"cluster {cluster!r} is not a host of the {target.description}; "
            f"hosts: {', '.join(target.hosts)}"
        )
    return cluster if cluster is not None else limit


def check_limit(limit: str | None, target: Target) -> None:
    """``--limit`` must name one host or group of the inventory (no patterns)."""
    if limit is not None and limit not in target.hosts and limit not in target.groups:
        raise TargetError(
            f"--limit {limit!r} is not a host or group of the {target.description}; "
            f"hosts: {', '.join(target.hosts)}"
        )


def _selecting_labels(catalog: Catalog, alertname: str) -> set[str]:
    """The labels that pick among the entries of a name: those of their ``match`` selectors."""
    keys = {"namespace", "system"}
    for entry in catalog.by_name(alertname):
        keys.update(key for selector in entry.match for key in selector)
    return keys


def _named_labels(
    labels: Mapping[str, str] | None, namespace: str | None, system: str | None
) -> dict[str, str]:
    """``--label`` pairs with ``--namespace`` and ``--system``, which are labels too."""
    given = dict(labels or {})
    for key, value in (("namespace", namespace), ("system", system)):
        if value is None:
            continue
        if given.setdefault(key, value) != value:
            raise InputError(
                f"--{key} {value!r} and --label {key}={given[key]!r} disagree: give the {key} once"
            )
    return given


def plan_named(
    catalog: Catalog,
    alertname: str,
    *,
    namespace: str | None = None,
    system: str | None = None,
    labels: Mapping[str, str] | None = None,
    limit: str | None = None,
    roles_dir: Path | None = None,
) -> Job:
    """The job of ``runbook run ALERT [--namespace N] [--system S] [--label KEY=VALUE ...]``.

    ``labels`` are the ``--label`` pairs, already checked (``payload.parse_labels``). The
    alert's labels are them, ``namespace`` and ``system`` (a label given twice with two values is
    refused), ``alertname`` and the entry's ``system``. They select the catalog entry as a
    payload's labels do, and give the target (e.g. ``pod`` for PodRestart). A ``cluster`` label
    is the run's ``--limit``, as in a payload; ``check_job_target`` checks it and ``limit``
    against the inventory later.
    """
    given = _named_labels(labels, namespace, system)
    cluster = given.get("cluster")
    if cluster is not None and limit is not None and limit != cluster:
        raise InputError(
            f"--limit {limit!r} and --label cluster={cluster!r} disagree: the cluster label "
            "is the run's limit"
        )
    if not given.keys() & _selecting_labels(catalog, alertname):
        # A name several systems share, given alone: the system whose role exists, when only
        # one does (seed 001's Nimify for HighErrorRate, HighLatency, ServiceDown, ...).
        served = [
            entry
            for entry in catalog.by_name(catalog.canonical_name(alertname))
            if role_available(entry, roles_dir)
        ]
        if len(served) == 1:
            given["system"] = served[0].system
    entry = catalog.resolve(alertname, given)
    check_role(entry, roles_dir)
    job_labels = {"alertname": entry.alert, **given, "system": entry.system}
    for field_name, label in (entry.target.get("from_labels") or {}).items():
        if label not in job_labels and entry.target.get(field_name) is None:
            raise AlertResolutionError(
                f"{entry.alert} ({entry.system}) needs the alert label {label!r} for the "
                f"target's {field_name}: give it with --label {label}=VALUE"
            )
    entry.target_for(job_labels)
    return Job(
        alert=entry.alert,
        entry=entry,
        labels=job_labels,
        limit=cluster if cluster is not None else limit,
    )


def check_job_target(job: Job, target: Target) -> None:
    """A named job's ``cluster`` label must be a host of the inventory, and its limit a host
    or group of it."""
    _limit_for(job.labels, None, target)
    check_limit(job.limit, target)


@dataclass(frozen=True)
class PayloadPlan:
    jobs: list[Job]
    skipped: list[str]
    """One line per alert that does not run (resolved, or outside ``--limit``)."""


def read_payload_bytes(source: str | Path | BinaryIO) -> bytes:
    """At most ``MAX_PAYLOAD_BYTES + 1`` bytes of a payload file or stream."""
    if isinstance(source, str | Path):
        try:
            with Path(source).open("rb") as stream:
                return stream.read(MAX_PAYLOAD_BYTES + 1)
        except OSError as error:
            raise PayloadError(f"cannot read payload {source}: {error.strerror}") from None
    return source.read(MAX_PAYLOAD_BYTES + 1)


def _resolved_alerts(data: bytes) -> list[str]:
    """``alertname (fingerprint)`` of the resolved alerts of an already validated payload."""
    document = json.loads(data)
    return [
        f"{item['labels']['alertname']} ({item.get('fingerprint') or 'no fingerprint'})"
        for item in document["alerts"]
        if item["status"] == "resolved"
    ]


def plan_payload(
    catalog: Catalog,
    data: bytes,
    target: Target,
    *,
    limit: str | None = None,
    roles_dir: Path | None = None,
) -> PayloadPlan:
    """The jobs of ``runbook run --alert-file``: one per firing alert (by fingerprint)."""
    alerts: list[Alert] = parse_payload(data)
    skipped = [f"{name}: resolved, not acted on" for name in _resolved_alerts(data)]
    check_limit(limit, target)
    jobs = []
    for alert in alerts:
        entry = catalog.resolve(alert.alertname, alert.labels)
        check_role(entry, roles_dir)
        entry.target_for(alert.labels)
        host = _limit_for(alert.labels, limit, target)
        if limit is not None and host != limit and limit not in target.groups:
            skipped.append(f"{alert.alertname}: cluster {host} is outside --limit {limit}")
            continue
        jobs.append(
            Job(
                alert=entry.alert,
                entry=entry,
                labels={**alert.labels, "alertname": alert.alertname},
                annotations=dict(alert.annotations),
                fingerprint=alert.fingerprint,
                starts_at=alert.starts_at,
                limit=host,
            )
        )
    return PayloadPlan(jobs, skipped)


# -- artifacts -------------------------------------------------------------------------------------


def artifacts_root(option: str | None = None) -> Path:
    """``--artifacts-dir``, else ``$SRE_RUNBOOKS_ARTIFACTS_DIR``, else the XDG state dir."""
    chosen = option or os.environ.get(ARTIFACTS_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "sre-runbooks" / "runs"


def new_run_id(name: str, now: datetime | None = None) -> str:
    """``20261123T004512Z-higherrorrate-3f9a``: sortable, lower case, ``[a-z0-9-]``."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "run"
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


def prune(root: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` run directories under ``root``; return the deleted.

    Only directories named like a run id are considered; anything else in ``root`` stays.
    """
    if not root.is_dir():
        return []
    runs = [path for path in root.iterdir() if path.is_dir() and _RUN_ID.fullmatch(path.name)]
    runs.sort(key=lambda path: (path.name[:16], path.stat().st_mtime_ns, path.name))
    doomed = runs[: max(len(runs) - max(keep, 1), 0)]
    for path in doomed:
        shutil.rmtree(path, ignore_errors=True)
    return doomed


_SECRET_NAME = re.compile(r"token|password|passwd|secret|api_key|apikey|webhook|notify_url", re.I)


def redact_secrets(variables: Mapping[str, Any]) -> dict[str, Any]:
    """``variables`` with the values of credential-like names (``*_token``, ``*_url`` of a
    webhook, ...) replaced by ``<redacted>``."""
    return {
        name: REDACTED if _SECRET_NAME.search(name) else value for name, value in variables.items()
    }


def scrub_command_artifact(private_data_dir: Path) -> None:
    """Replace environment values in ansible-runner's ``command`` artifacts by ``<redacted>``.

    ansible-runner records the whole environment of ansible-playbook there, and tokens
    (``K8S_AUTH_API_KEY``, ...) live in the environment.
    """
    for path in private_data_dir.glob("artifacts/*/command"):
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
            continue
        env = document.get("env") or {}
        document["env"] = {
            name: value if name in _SHOWN_ENV else REDACTED for name, value in env.items()
        }
        path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")


# -- execution -------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What one ansible-runner run did, and what its reports say."""

    name: str
    run_id: str
    run_dir: Path
    limit: str | None
    status: str
    rc: int | None
    reports: list[dict[str, Any]]
    """One per host: {cluster, outcome, exit_code, json, md, report}."""
    exit_code: int
    system: str = ""
    check: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "alert": self.name,
            "system": self.system,
            "cluster": self.limit,
            "run_id": self.run_id,
            "run_dir": str(self.run_dir),
            "check_mode": self.check,
            "runner_status": self.status,
            "rc": self.rc,
            "outcome": _overall_outcome(self.reports),
            "exit_code": self.exit_code,
            "reports": self.reports,
        }


def _overall_outcome(reports: list[dict[str, Any]]) -> str:
    if not reports:
        return "failed"
    worst = max(reports, key=lambda item: _SEVERITY_OF_EXIT.get(item["exit_code"], 2))
    return str(worst["outcome"])


def _runner_env(run_dir: Path | None = None) -> dict[str, str]:
    # ansible-runner starts `ansible-playbook` from PATH: the one beside this Python comes first,
    # so a launcher started from a virtual environment that is not activated still finds it.
    path = os.environ.get("PATH", os.defpath)
    env = {
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), path]),
    }
    # Ansible loads the copy of the collection the launcher read (ansible.cfg, collections path).
    env.update(collection.ansible_env(run_dir))
    return env


def _read_reports(report_dir: Path, hosts: Iterable[str]) -> list[dict[str, Any]]:
    reports = []
    seen = set()
    for path in sorted(report_dir.glob("*/report.json")):
        cluster = path.parent.name
        seen.add(cluster)
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            report = {"outcome": "failed", "message": f"unreadable report: {error}"}
        if not isinstance(report, dict):
            report = {"outcome": "failed", "message": "report.json is not an object"}
        markdown = path.with_name("report.md")
        reports.append(
            {
                "cluster": cluster,
                "outcome": report.get("outcome", "failed"),
                "exit_code": outcome_exit(report.get("outcome")),
                "json": str(path),
                "md": str(markdown) if markdown.is_file() else None,
                "report": report,
            }
        )
    for host in sorted(set(hosts) - seen):
        reports.append(
            {
                "cluster": host,
                "outcome": "failed",
                "exit_code": EXIT_FAILED,
                "json": None,
                "md": None,
                "report": {"outcome": "failed", "message": "the playbook wrote no report"},
            }
        )
    return reports


def _stats_hosts(stats: Mapping[str, Any] | None) -> set[str]:
    hosts: set[str] = set()
    for key in ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "processed"):
        hosts.update((stats or {}).get(key) or {})
    return hosts


EventHandler = Callable[[dict[str, Any]], bool]


def execute(
    playbook: Path,
    inventory: Path,
    variables: Mapping[str, Any],
    *,
    name: str,
    root: Path,
    limit: str | None = None,
    check: bool = False,
    event_handler: EventHandler | None = None,
    run_id: str | None = None,
    require_report: bool = True,
) -> RunResult:
    """Run ``playbook`` once through ansible-runner in a new run directory under ``root``.

    ``variables`` are written to ``env/extravars``, never templated (``extravars_text``);
    ``sre_runbooks_run_id`` and ``sre_runbooks_report_dir`` are added. With
    ``require_report``, a host that wrote no report counts as failed.
    """
    import ansible_runner  # noqa: PLC0415  (slow import, only when something runs)

    run_id = run_id or new_run_id(name)
    run_dir = root / run_id
    run_dir.mkdir(mode=0o700, parents=True)
    report_dir = run_dir / "report"
    report_dir.mkdir(mode=0o700)
    all_variables = {
        **variables,
        "sre_runbooks_run_id": run_id,
        "sre_runbooks_report_dir": str(report_dir),
    }
    write_extravars(run_dir, all_variables)
    scrubbed = False

    def on_event(event: dict[str, Any]) -> bool:
        nonlocal scrubbed
        if not scrubbed:  # the command artifact exists once the first event arrives
            scrub_command_artifact(run_dir)
            scrubbed = True
        return event_handler(event) if event_handler else True

    try:
        runner = ansible_runner.run(
            private_data_dir=str(run_dir),
            ident=run_id,
            playbook=str(playbook),
            inventory=str(inventory),
            limit=limit,
            cmdline="--check" if check else None,
            envvars=_runner_env(run_dir),
            suppress_env_files=True,
            quiet=True,
            event_handler=on_event,
        )
    finally:
        scrub_command_artifact(run_dir)
        # The run directory is kept: credentials given with -e (a webhook URL, a token) must
        # not stay in it.
        write_extravars(run_dir, redact_secrets(all_variables))
    hosts: set[str] = set()
    if require_report:
        hosts = _stats_hosts(runner.stats)
        if limit is not None and not hosts and not any(report_dir.glob("*/report.json")):
            hosts = {limit}
    reports = _read_reports(report_dir, hosts)
    # A host's report decides its code: a role may fail the play on purpose after reporting
    # (e.g. when the alert is not resolved: 3, not 1). Without reports, the run's status does.
    codes = [item["exit_code"] for item in reports]
    if not require_report or not codes or runner.status in {"canceled", "timeout"}:
        ok = runner.status == "successful" and runner.rc == 0 and (codes or not require_report)
        codes.append(EXIT_OK if ok else EXIT_FAILED)
    return RunResult(
        name=name,
        run_id=run_id,
        run_dir=run_dir,
        limit=limit,
        status=str(runner.status),
        rc=runner.rc,
        reports=reports,
        exit_code=worst_exit(codes),
        check=check,
    )


def job_variables(job: Job, extra: Mapping[str, str], approve: bool) -> dict[str, Any]:
    """The extra variables of one remediation (docs/launcher.md)."""
    return {
        **extra,
        "alert": job.alert,
        "alert_labels": dict(job.labels),
        "alert_annotations": dict(job.annotations),
        "alert_fingerprint": job.fingerprint,
        "alert_starts_at": job.starts_at,
        "sre_runbooks_approve": bool(approve),
    }


def remediate(
    job: Job,
    *,
    root: Path,
    inventory: Path,
    extra: Mapping[str, str],
    check: bool = False,
    approve: bool = False,
    playbooks_dir: Path | None = None,
    event_handler: EventHandler | None = None,
) -> RunResult:
    """Run ``playbooks/remediate.yml`` for one job."""
    playbook = (playbooks_dir or collection.path("playbooks")) / REMEDIATE_PLAYBOOK
    if not playbook.is_file():
        raise UnavailableError(f"the remediation playbook {playbook} is not available yet")
    result = execute(
        playbook,
        inventory,
        job_variables(job, extra, approve),
        name=job.alert,
        root=root,
        limit=job.limit,
        check=check,
        event_handler=event_handler,
    )
    result.system = job.entry.system
    return result


def maintenance_playbook(kind: str, playbooks_dir: Path | None = None) -> Path:
    playbook = (playbooks_dir or collection.path("playbooks")) / MAINTENANCE_PLAYBOOKS[kind]
    if not playbook.is_file():
        raise UnavailableError(
            f"maintenance playbooks are not available yet ({playbook.name} is not part of "
            "the collection)"
        )
    return playbook
