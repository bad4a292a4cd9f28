"""The alert catalog as the launcher sees it: ``runbook list``, ``explain`` and ``run``.

The catalog (``playbooks/vars/alert_catalog.yml``) and the alerting rules
(``prometheus/rules/*.yml``) are read, checked, merged and resolved by the collection's one
resolver, ``plugins/plugin_utils/alert_catalog.py``, which this module loads from the collection
the launcher found (``sre_runbooks.collection``); the ``sre.runbooks.alert`` lookup of
``playbooks/remediate.yml`` runs the same file. Here its entries become ``CatalogEntry`` objects,
its errors the launcher's, and the launcher adds what only it needs: the target built from
labels checked as Kubernetes names, and the roles' options and mitigations. docs/catalog.md
describes the fields and the resolution rules.
"""

import importlib.util
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

from sre_runbooks import collection
from sre_runbooks.payload import InvalidNameError, validate_k8s_name

CATALOG_FILE = ("playbooks", "vars", "alert_catalog.yml")
RESOLVER_FILE = ("plugins", "plugin_utils", "alert_catalog.py")
SEVERITIES = ("critical", "warning", "info")


def catalog_path() -> Path:
    """The collection's catalog file (``sre_runbooks.collection`` finds the collection)."""
    return collection.path(*CATALOG_FILE)


def default_roles_dir() -> Path:
    """The collection's roles."""
    return collection.path("roles")


def __getattr__(name: str) -> Path:
    """``CATALOG_PATH`` and ``ROLES_DIR``: the collection's, located on first use."""
    if name == "CATALOG_PATH":
        return catalog_path()
    if name == "ROLES_DIR":
        return default_roles_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def _resolver_at(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location("sre_runbooks._alert_catalog", path)
    if spec is None or spec.loader is None:
        raise CatalogFileError(f"cannot load the alert resolver {path}")
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except (OSError, SyntaxError, ImportError) as error:
        raise CatalogFileError(f"cannot load the alert resolver {path}: {error}") from None
    return module


def resolver() -> ModuleType:
    """The collection's ``plugins/plugin_utils/alert_catalog.py``, loaded from its file."""
    return _resolver_at(collection.path(*RESOLVER_FILE))


class CatalogError(Exception):
    """Base of the catalog's errors."""


class CatalogFileError(CatalogError):
    """The catalog or a rule file is missing or invalid, or they disagree; the message names the
    file, the entry and the field."""


class AlertResolutionError(CatalogError):
    """An alert name and labels select no entry, or more than one."""


class UnknownAlertError(AlertResolutionError):
    """No entry has this alert name or alias."""

    def __init__(self, alertname: str, known: list[str], suggestions: list[str]) -> None:
        self.alertname = alertname
        self.known = known
        self.suggestions = suggestions
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown alert {alertname!r}.{hint} Known alerts: {', '.join(known)}")


def _resolution_error(error: ValueError) -> AlertResolutionError:
    """The resolver's ResolveError as the launcher's error."""
    if isinstance(error, resolver().UnknownAlert):
        return UnknownAlertError(error.alert, error.known, error.suggestions)
    return AlertResolutionError(str(error))


def duration_seconds(duration: str) -> int:
    """``'15m'`` -> 900. Durations are a whole number and one unit of s, m, h or d."""
    return resolver().duration_seconds(duration)


@dataclass(frozen=True)
class Escalation:
    after: str
    to: str
    contact: str = ""

    @property
    def after_seconds(self) -> int:
        return duration_seconds(self.after)


def _escalation(steps: Iterable[Mapping[str, str]]) -> tuple[Escalation, ...]:
    return tuple(Escalation(step["after"], step["to"], step.get("contact", "")) for step in steps)


@dataclass(frozen=True)
class Level:
    """One severity of an entry: the entry itself, or one of its ``levels``."""

    severity: str
    seed_severity: str
    condition: str
    escalation: tuple[Escalation, ...]


@dataclass(frozen=True, eq=False)
class CatalogEntry:
    """One resolved entry: the catalog's fields merged with its rules' identity (``severity``,
    ``role``, ``runbook_url``); ``raw`` is the resolver's dict."""

    alert: str
    aliases: tuple[str, ...]
    system: str
    severity: str
    seed_severity: str
    role: str
    description: str
    condition: str
    match: tuple[dict[str, str], ...]
    target: dict[str, Any]
    escalation: tuple[Escalation, ...]
    runbook_url: str
    levels: tuple[Level, ...]
    catch_all: bool
    excluded_namespaces: tuple[str, ...]
    notes: str
    raw: dict[str, Any]

    @classmethod
    def from_resolved(cls, entry: dict[str, Any]) -> "CatalogEntry":
        """A CatalogEntry from the resolver's dict."""
        escalation = _escalation(entry["escalation"])
        return cls(
            alert=entry["alert"],
            aliases=tuple(entry["aliases"]),
            system=entry["system"],
            severity=entry["severity"],
            seed_severity=entry["seed_severity"],
            role=entry["role"],
            description=entry["description"],
            condition=entry["condition"],
            match=tuple(entry["match"]),
            target=entry["target"],
            escalation=escalation,
            runbook_url=entry["runbook_url"],
            levels=tuple(
                Level(
                    level["severity"],
                    level["seed_severity"],
                    level["condition"],
                    _escalation(level["escalation"]) if "escalation" in level else escalation,
                )
                for level in entry.get("levels", [])
            ),
            catch_all=entry["catch_all"],
            excluded_namespaces=tuple(entry["excluded_namespaces"]),
            notes=entry["notes"],
            raw=entry,
        )

    @property
    def key(self) -> tuple[str, str]:
        return (self.alert, self.system)

    @property
    def severities(self) -> tuple[str, ...]:
        """Every severity this entry fires with (one, or one per level)."""
        return tuple(level.severity for level in self.levels) or (self.severity,)

    def level(self, severity: str | None = None) -> Level:
        """The level an alert with this ``severity`` label belongs to (default: the entry's)."""
        for level in self.levels:
            if level.severity == severity:
                return level
        return Level(self.severity, self.seed_severity, self.condition, self.escalation)

    def target_for(self, labels: Mapping[str, str]) -> dict[str, str]:
        """The target workload ``{namespace, kind, name}`` for an alert with ``labels``.

        Fields listed in ``target.from_labels`` take the value of that alert label (checked as a
        Kubernetes name); the others, or a missing label, fall back to the fixed value.
        """
        from_labels = self.target.get("from_labels") or {}
        result = {"kind": str(self.target["kind"])}
        for field_name in ("namespace", "name"):
            kind = "namespace" if field_name == "namespace" else result["kind"]
            label = from_labels.get(field_name)
            value = labels.get(label) if label else None
            if value is None:
                value = self.target.get(field_name)
                if value is None:
                    raise AlertResolutionError(
                        f"{self.alert} ({self.system}) needs the alert label {label!r} "
                        f"for the target's {field_name}"
                    )
            try:
                result[field_name] = validate_k8s_name(kind, value)
            except InvalidNameError as error:
                source = f"label {label!r}" if label and label in labels else "catalog"
                raise AlertResolutionError(
                    f"{self.alert} ({self.system}): {source}: {error}"
                ) from None
        return result

    def as_dict(self) -> dict[str, Any]:
        """The entry as the resolver gives it: the catalog's fields and the rules' identity
        (JSON-serialisable)."""
        return dict(self.raw)


def role_options(role: str, roles_dir: Path | None = None) -> dict[str, Any] | None:
    """The options of a role's ``main`` entry point from ``meta/argument_specs.yml``.

    None when the role (or its argument specs) does not exist yet. Each option maps to its spec
    (``type``, ``default``, ``required``, ``description``, ...).
    """
    path = (roles_dir or default_roles_dir()) / role / "meta" / "argument_specs.yml"
    if not path.is_file():
        return None
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogFileError(f"cannot read {path}: {error}") from None
    try:
        options = document["argument_specs"]["main"].get("options") or {}
    except (TypeError, KeyError, AttributeError):
        raise CatalogFileError(f"{path}: no argument_specs.main entry point") from None
    if not isinstance(options, dict):
        raise CatalogFileError(f"{path}: argument_specs.main.options must be a mapping")
    return {str(name): spec if isinstance(spec, dict) else {} for name, spec in options.items()}


PHASES = (
    "assess: the alert and its related metrics in one Prometheus query; stop if not firing",
    "guard: refuse protected namespaces; take the target's Lease; stop within the cooldown",
    "investigate: the workload's pods, events, rollout history and usage, the role's probes",
    "decide: the role's rules over the findings; risky actions wait for approval (--yes)",
    "mitigate: under an Alertmanager silence, at most remediation_max_mitigations changes",
    "verify: wait for rollouts and for the alert's ALERTS series to clear",
    "report: Events on the changed objects, audit lines, report.json/md, chart, notification",
)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise CatalogFileError(f"cannot read {path}: {error}") from None


def role_remediation(
    role: str, system: str, roles_dir: Path | None = None
) -> dict[str, Any] | None:
    """What an alert role does for ``system``: its rules, from ``defaults/main.yml``.

    None when the role does not exist or remediates another system (the roles of names that
    several systems share serve one system each).
    """
    role_dir = (roles_dir or default_roles_dir()) / role
    tasks = role_dir / "tasks" / "main.yml"
    if not tasks.is_file():
        return None
    systems = {
        (task.get("vars") or {}).get("remediation_system")
        for task in _read_yaml(tasks) or []
        if isinstance(task, dict) and "ansible.builtin.include_role" in task
    }
    if system not in systems:
        return None
    defaults_file = role_dir / "defaults" / "main.yml"
    defaults = (_read_yaml(defaults_file) if defaults_file.is_file() else None) or {}
    rules = [
        {
            "action": rule.get("action"),
            "type": rule.get("type"),
            "risky": bool(rule.get("risky", False)),
            "description": str(rule.get("description", "")).strip(),
        }
        for rule in defaults.get(f"{role}_rules") or []
        if isinstance(rule, dict)
    ]
    return {"system": system, "phases": list(PHASES), "rules": rules}


class Catalog:
    """The validated catalog, as CatalogEntry objects. Build it with ``load_catalog()``."""

    def __init__(self, resolved: Any) -> None:
        self._resolved = resolved
        self._entries = tuple(CatalogEntry.from_resolved(entry) for entry in resolved)
        self._by_key = {entry.key: entry for entry in self._entries}

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Every alert name, sorted."""
        return list(self._resolved.names())

    def systems(self) -> list[str]:
        return sorted({entry.system for entry in self._entries})

    def aliases(self) -> dict[str, str]:
        """alias -> alert name."""
        return dict(self._resolved.aliases())

    def canonical_name(self, alertname: str) -> str:
        """The alert name for a name or an alias (exact, case-sensitive), else UnknownAlertError."""
        try:
            return str(self._resolved.canonical_name(alertname))
        except ValueError as error:
            raise _resolution_error(error) from None

    def by_name(self, alertname: str) -> list[CatalogEntry]:
        """Every entry of an alert name or alias (several when systems share the name)."""
        name = self.canonical_name(alertname)
        return [entry for entry in self._entries if entry.alert == name]

    def entries(self, system: str | None = None, severity: str | None = None) -> list[CatalogEntry]:
        """Entries in catalog order, optionally only one system's and/or one severity's."""
        return [
            entry
            for entry in self._entries
            if (system is None or entry.system == system)
            and (severity is None or severity in entry.severities)
        ]

    def resolve(self, alertname: str, labels: Mapping[str, str] | None = None) -> CatalogEntry:
        """The entry for an alert name (or alias) and the alert's labels: the resolver's
        ``Catalog.resolve`` (docs/catalog.md), its errors as AlertResolutionError."""
        try:
            chosen = self._resolved.resolve(alertname, dict(labels or {}))
        except ValueError as error:
            raise _resolution_error(error) from None
        return self._by_key[(chosen["alert"], chosen["system"])]


def load_catalog(path: Path | None = None, rules_dir: Path | None = None) -> Catalog:
    """The validated catalog at ``path`` with the alerting rules of ``rules_dir``, by default the
    collection's (the resolver loads them again only when a file changed)."""
    module = resolver()
    try:
        resolved = module.load(
            str(collection.path()),
            catalog_path=str(path) if path else None,
            rules_dir=str(rules_dir) if rules_dir else None,
        )
    except module.CatalogFileError as error:
        raise CatalogFileError(str(error)) from None
    return _wrapped(resolved)


@lru_cache(maxsize=2)  # the resolver loads again when a file changes: keep the newest
def _wrapped(resolved: Any) -> Catalog:
    return Catalog(resolved)


def resolve(
    alertname: str, labels: Mapping[str, str] | None = None, catalog: Catalog | None = None
) -> CatalogEntry:
    """``Catalog.resolve`` on the collection's catalog (or ``catalog``)."""
    return (catalog or load_catalog()).resolve(alertname, labels)


def entries(
    system: str | None = None, severity: str | None = None, catalog: Catalog | None = None
) -> list[CatalogEntry]:
    """``Catalog.entries`` on the collection's catalog (or ``catalog``)."""
    return (catalog or load_catalog()).entries(system, severity)
