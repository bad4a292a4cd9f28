"""The alert catalog (playbooks/vars/alert_catalog.yml): loading, validation and resolution.

One entry per (alert, system). ``resolve(alertname, labels)`` picks the entry an alert belongs to;
docs/catalog.md describes the fields and the resolution rules.
"""

import difflib
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from sre_runbooks import collection
from sre_runbooks.payload import NAME_RULES, InvalidNameError, validate_k8s_name

CATALOG_FILE = ("playbooks", "vars", "alert_catalog.yml")
CATALOG_VARIABLE = "alert_catalog"
SEVERITIES = ("critical", "warning", "info")
TARGET_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
RELATED_KINDS = (*TARGET_KINDS, "Service", "ConfigMap", "PersistentVolumeClaim")

_ALERT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYSTEM = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DURATION = re.compile(r"(0|[1-9][0-9]*)([smhd])")
# The rule's runbook_url: a link to the alert's section of docs/alerts.md (sre_runbooks.rules).
_URL = re.compile(r"\S+#[a-z0-9]+")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_REQUIRED = (
    "alert",
    "aliases",
    "system",
    "severity",
    "seed_severity",
    "role",
    "description",
    "condition",
    "match",
    "target",
    "escalation",
    "runbook_url",
)
_OPTIONAL = ("seed", "levels", "catch_all", "excluded_namespaces", "related", "notes")
_TARGET_FIELDS = ("namespace", "kind", "name", "from_labels")


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


class CatalogError(Exception):
    """Base of the catalog's errors."""


class CatalogFileError(CatalogError):
    """The catalog file is missing or invalid; the message names the entry and the field."""


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


def duration_seconds(duration: str) -> int:
    """``'15m'`` -> 900. Durations are a whole number and one unit of s, m, h or d."""
    match = _DURATION.fullmatch(duration)
    if not match:
        raise ValueError(f"invalid duration {duration!r}: expected e.g. '0m', '15m', '2h'")
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


@dataclass(frozen=True)
class Escalation:
    after: str
    to: str
    contact: str = ""

    @property
    def after_seconds(self) -> int:
        return duration_seconds(self.after)


@dataclass(frozen=True)
class Level:
    """One severity of an entry: the entry itself, or one of its ``levels``."""

    severity: str
    seed_severity: str
    condition: str
    escalation: tuple[Escalation, ...]


@dataclass(frozen=True, eq=False)
class CatalogEntry:
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

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when one of the ``match`` selectors equals ``labels`` on all of its keys."""
        return any(
            all(labels.get(key) == value for key, value in selector.items())
            for selector in self.match
        )

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
        """The entry as in the catalog file (JSON-serialisable)."""
        return dict(self.raw)


class _Checker:
    """Validation of one raw entry; every message names the entry and the field."""

    def __init__(self, index: int, raw: object) -> None:
        self.raw = raw
        name = ""
        if isinstance(raw, dict):
            name = f" {raw.get('alert', '?')} ({raw.get('system', '?')})"
        self.where = f"alert_catalog[{index}]{name}"

    def fail(self, field_name: str, problem: str) -> CatalogFileError:
        return CatalogFileError(f"{self.where}: field {field_name!r}: {problem}")

    def string(self, value: object, field_name: str, pattern: re.Pattern[str] | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field_name, f"must be a non-empty string, not {value!r}")
        if "\n" in value:
            raise self.fail(field_name, "must be one line")
        if "{{" in value or "{%" in value:
            raise self.fail(field_name, "must not contain template delimiters")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(field_name, f"{value!r} does not match {pattern.pattern}")
        return value

    def k8s_name(self, kind: str, value: object, field_name: str) -> str:
        try:
            return validate_k8s_name(kind, value)
        except InvalidNameError as error:
            raise self.fail(field_name, str(error)) from None

    def escalation(self, value: object, field_name: str) -> tuple[Escalation, ...]:
        if not isinstance(value, list):
            raise self.fail(field_name, "must be a list of {after, to}")
        steps = []
        for position, step in enumerate(value):
            where = f"{field_name}[{position}]"
            if not isinstance(step, dict) or set(step) - {"after", "to", "contact"}:
                raise self.fail(where, "must be a mapping of after, to and optional contact")
            after = self.string(step.get("after"), f"{where}.after", _DURATION)
            steps.append(
                Escalation(
                    after=after,
                    to=self.string(step.get("to"), f"{where}.to"),
                    contact=self.string(step["contact"], f"{where}.contact")
                    if "contact" in step
                    else "",
                )
            )
        seconds = [step.after_seconds for step in steps]
        if seconds != sorted(seconds):
            raise self.fail(field_name, "steps must be in order of 'after'")
        return tuple(steps)

    def match(self, value: object) -> tuple[dict[str, str], ...]:
        if not isinstance(value, list):
            raise self.fail("match", "must be a list of label selectors")
        selectors = []
        for position, selector in enumerate(value):
            where = f"match[{position}]"
            if not isinstance(selector, dict) or not selector:
                raise self.fail(where, "must be a non-empty mapping of label: value")
            for label, label_value in selector.items():
                self.string(label, f"{where} key", _LABEL_NAME)
                self.string(label_value, f"{where}.{label}")
                if label == "namespace":
                    self.k8s_name("namespace", label_value, f"{where}.{label}")
            selectors.append(dict(selector))
        return tuple(selectors)

    def target(self, value: object) -> dict[str, Any]:
        if not isinstance(value, dict) or set(value) - set(_TARGET_FIELDS):
            raise self.fail("target", f"must be a mapping with keys {', '.join(_TARGET_FIELDS)}")
        kind = self.string(value.get("kind"), "target.kind")
        if kind not in TARGET_KINDS:
            raise self.fail("target.kind", f"{kind!r} is not one of {', '.join(TARGET_KINDS)}")
        from_labels = value.get("from_labels") or {}
        if not isinstance(from_labels, dict) or set(from_labels) - {"namespace", "name"}:
            raise self.fail("target.from_labels", "must map namespace and/or name to a label")
        for field_name in ("namespace", "name"):
            if field_name in from_labels:
                self.string(
                    from_labels[field_name], f"target.from_labels.{field_name}", _LABEL_NAME
                )
            fixed = value.get(field_name)
            if fixed is None:
                if field_name not in from_labels:
                    raise self.fail(
                        f"target.{field_name}", "must be set, or taken from a label (from_labels)"
                    )
            else:
                kind_of = "namespace" if field_name == "namespace" else kind
                self.k8s_name(kind_of, fixed, f"target.{field_name}")
        return dict(value)

    def related(self, value: object) -> None:
        if not isinstance(value, list):
            raise self.fail("related", "must be a list of {namespace, kind, name, purpose}")
        for position, item in enumerate(value):
            where = f"related[{position}]"
            if not isinstance(item, dict) or set(item) != {"namespace", "kind", "name", "purpose"}:
                raise self.fail(where, "must have exactly namespace, kind, name and purpose")
            kind = self.string(item["kind"], f"{where}.kind")
            if kind not in RELATED_KINDS or kind.lower() not in NAME_RULES:
                raise self.fail(
                    f"{where}.kind", f"{kind!r} is not one of {', '.join(RELATED_KINDS)}"
                )
            self.k8s_name("namespace", item["namespace"], f"{where}.namespace")
            self.k8s_name(kind, item["name"], f"{where}.name")
            self.string(item["purpose"], f"{where}.purpose")

    def levels(self, value: object, escalation: tuple[Escalation, ...]) -> tuple[Level, ...]:
        if not isinstance(value, list) or len(value) < 2:
            raise self.fail("levels", "must be a list of at least two levels")
        levels = []
        for position, item in enumerate(value):
            where = f"levels[{position}]"
            allowed = {"severity", "seed_severity", "condition", "escalation"}
            if not isinstance(item, dict) or set(item) - allowed:
                raise self.fail(where, f"must be a mapping of {', '.join(sorted(allowed))}")
            severity = self.string(item.get("severity"), f"{where}.severity")
            if severity not in SEVERITIES:
                raise self.fail(f"{where}.severity", f"must be one of {', '.join(SEVERITIES)}")
            levels.append(
                Level(
                    severity=severity,
                    seed_severity=self.string(item.get("seed_severity"), f"{where}.seed_severity"),
                    condition=self.string(item.get("condition"), f"{where}.condition"),
                    escalation=self.escalation(item["escalation"], f"{where}.escalation")
                    if "escalation" in item
                    else escalation,
                )
            )
        severities = [level.severity for level in levels]
        if len(set(severities)) != len(severities):
            raise self.fail("levels", "severities must be distinct")
        return tuple(levels)

    def shape(self) -> dict[str, Any]:
        raw = self.raw
        if not isinstance(raw, dict):
            raise CatalogFileError(f"{self.where}: must be a mapping, not {type(raw).__name__}")
        for field_name in _REQUIRED:
            if field_name not in raw:
                raise self.fail(field_name, "is required")
        unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
        if unknown:
            raise self.fail(sorted(unknown)[0], "is not a catalog field")
        return raw

    def aliases(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            raise self.fail("aliases", "must be a list of alert names")
        return tuple(
            self.string(alias, f"aliases[{position}]", _ALERT_NAME)
            for position, alias in enumerate(value)
        )

    def severity(self, value: object) -> str:
        severity = self.string(value, "severity")
        if severity not in SEVERITIES:
            raise self.fail("severity", f"{severity!r} is not one of {', '.join(SEVERITIES)}")
        return severity

    def selection(
        self, raw: dict[str, Any]
    ) -> tuple[tuple[dict[str, str], ...], bool, tuple[str, ...]]:
        """``match``, ``catch_all`` and ``excluded_namespaces``, checked together."""
        catch_all = raw.get("catch_all", False)
        if not isinstance(catch_all, bool):
            raise self.fail("catch_all", "must be true or false")
        match = self.match(raw["match"])
        if catch_all and match:
            raise self.fail("match", "must be empty on a catch_all entry")
        excluded = raw.get("excluded_namespaces", [])
        if excluded and not catch_all:
            raise self.fail("excluded_namespaces", "is only allowed on a catch_all entry")
        if not isinstance(excluded, list):
            raise self.fail("excluded_namespaces", "must be a list of namespaces")
        for position, namespace in enumerate(excluded):
            self.k8s_name("namespace", namespace, f"excluded_namespaces[{position}]")
        return match, catch_all, tuple(excluded)

    def entry(self) -> CatalogEntry:
        raw = self.shape()
        severity = self.severity(raw["severity"])
        seed_severity = self.string(raw["seed_severity"], "seed_severity")
        escalation = self.escalation(raw["escalation"], "escalation")
        levels: tuple[Level, ...] = ()
        if "levels" in raw:
            levels = self.levels(raw["levels"], escalation)
            if (levels[0].severity, levels[0].seed_severity) != (severity, seed_severity):
                raise self.fail("levels", "the first level must repeat severity and seed_severity")
        notes = " ".join(str(raw.get("notes") or "").split())
        if notes:
            self.string(notes, "notes")
        elif not escalation:
            raise self.fail("escalation", "is empty: say why in 'notes'")
        match, catch_all, excluded = self.selection(raw)
        if "related" in raw:
            self.related(raw["related"])
        return CatalogEntry(
            alert=self.string(raw["alert"], "alert", _ALERT_NAME),
            aliases=self.aliases(raw["aliases"]),
            system=self.string(raw["system"], "system", _SYSTEM),
            severity=severity,
            seed_severity=seed_severity,
            role=self.string(raw["role"], "role", _ROLE_NAME),
            description=self.string(raw["description"], "description"),
            condition=self.string(raw["condition"], "condition"),
            match=match,
            target=self.target(raw["target"]),
            escalation=escalation,
            runbook_url=self.string(raw["runbook_url"], "runbook_url", _URL),
            levels=levels,
            catch_all=catch_all,
            excluded_namespaces=excluded,
            notes=notes,
            raw=raw,
        )


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


def _selector_text(entry: CatalogEntry) -> str:
    if entry.catch_all:
        excluded = ", ".join(entry.excluded_namespaces)
        return "catch-all" + (f", except namespaces {excluded}" if excluded else "")
    return " | ".join(
        ", ".join(f"{key}={value}" for key, value in selector.items()) for selector in entry.match
    )


class Catalog:
    """The validated catalog. Build it with ``load_catalog()``."""

    def __init__(self, entries: Iterable[CatalogEntry]) -> None:
        self._entries = tuple(entries)
        self._by_name: dict[str, list[CatalogEntry]] = {}
        for entry in self._entries:
            self._by_name.setdefault(entry.alert, []).append(entry)
        self._aliases: dict[str, str] = {}
        self._check()

    def _check(self) -> None:
        seen: set[tuple[str, str]] = set()
        for entry in self._entries:
            if entry.key in seen:
                raise CatalogFileError(
                    f"{entry.alert} ({entry.system}): more than one entry for this alert and system"
                )
            seen.add(entry.key)
            for alias in entry.aliases:
                if alias in self._by_name:
                    raise CatalogFileError(
                        f"{entry.alert} ({entry.system}): alias {alias!r} is an alert name"
                    )
                if self._aliases.setdefault(alias, entry.alert) != entry.alert:
                    raise CatalogFileError(
                        f"{entry.alert} ({entry.system}): alias {alias!r} "
                        f"already names {self._aliases[alias]}"
                    )
        for name, group in self._by_name.items():
            catch_alls = [entry for entry in group if entry.catch_all]
            if len(catch_alls) > 1:
                raise CatalogFileError(f"{name}: more than one catch_all entry")
            if len(group) > 1:
                for entry in group:
                    if not entry.catch_all and not entry.match:
                        raise CatalogFileError(
                            f"{name} ({entry.system}): field 'match' must not be empty when "
                            "several systems share the alert name"
                        )

    def __iter__(self) -> Iterator[CatalogEntry]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def names(self) -> list[str]:
        """Every alert name, sorted."""
        return sorted(self._by_name)

    def systems(self) -> list[str]:
        return sorted({entry.system for entry in self._entries})

    def aliases(self) -> dict[str, str]:
        """alias -> alert name."""
        return dict(self._aliases)

    def canonical_name(self, alertname: str) -> str:
        """The alert name for a name or an alias (exact, case-sensitive), else UnknownAlertError."""
        if alertname in self._by_name:
            return alertname
        if alertname in self._aliases:
            return self._aliases[alertname]
        candidates = [*self._by_name, *self._aliases]
        suggestions = difflib.get_close_matches(alertname, candidates, n=3, cutoff=0.6)
        folded = [name for name in candidates if name.lower() == alertname.lower()]
        suggestions = list(dict.fromkeys([*folded, *suggestions]))
        raise UnknownAlertError(alertname, self.names(), suggestions)

    def by_name(self, alertname: str) -> list[CatalogEntry]:
        """Every entry of an alert name or alias (several when systems share the name)."""
        return list(self._by_name[self.canonical_name(alertname)])

    def entries(self, system: str | None = None, severity: str | None = None) -> list[CatalogEntry]:
        """Entries in catalog order, optionally only one system's and/or one severity's."""
        return [
            entry
            for entry in self._entries
            if (system is None or entry.system == system)
            and (severity is None or severity in entry.severities)
        ]

    def resolve(self, alertname: str, labels: Mapping[str, str] | None = None) -> CatalogEntry:
        """The entry for an alert name (or alias) and the alert's labels.

        1. Among the entries of the name, those with a ``match`` selector equal to ``labels`` on
           every key of the selector are candidates; exactly one is chosen, several are an error.
        2. With no candidate, the name's ``catch_all`` entry is chosen unless the ``namespace``
           label is one of its ``excluded_namespaces``; a name with a single entry is chosen when
           ``labels`` hold none of the keys its selectors use (nothing contradicts it).
        3. A ``system`` label must equal the chosen entry's system.
        """
        labels = dict(labels or {})
        name = self.canonical_name(alertname)
        group = self._by_name[name]
        specific = [entry for entry in group if not entry.catch_all and entry.matches(labels)]
        if len(specific) > 1:
            systems = ", ".join(entry.system for entry in specific)
            raise AlertResolutionError(
                f"{name}: labels {labels} match the entries of several systems ({systems}); "
                "the labels contradict each other"
            )
        chosen = specific[0] if specific else self._fallback(name, group, labels)
        if "system" in labels and labels["system"] != chosen.system:
            raise AlertResolutionError(
                f"{name} has no entry for system {labels['system']!r}; "
                f"systems: {', '.join(entry.system for entry in group)}"
            )
        return chosen

    @staticmethod
    def _fallback(name: str, group: list[CatalogEntry], labels: Mapping[str, str]) -> CatalogEntry:
        catch_all = next((entry for entry in group if entry.catch_all), None)
        if catch_all is not None and labels.get("namespace") not in catch_all.excluded_namespaces:
            return catch_all
        if len(group) == 1 and catch_all is None:
            keys = {key for selector in group[0].match for key in selector}
            if not keys & set(labels):
                return group[0]
        choices = "; ".join(f"{entry.system}: {_selector_text(entry)}" for entry in group)
        raise AlertResolutionError(f"{name}: no entry matches labels {labels} ({choices})")


@cache
def _load_cached(path: Path, mtime_ns: int, size: int) -> Catalog:
    del mtime_ns, size  # part of the cache key only: a changed file is loaded again
    return _load(path)


def _load(path: Path) -> Catalog:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogFileError(f"cannot read the alert catalog {path}: {error.strerror}") from None
    except yaml.YAMLError as error:
        raise CatalogFileError(f"the alert catalog {path} is not valid YAML: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get(CATALOG_VARIABLE), list):
        raise CatalogFileError(f"{path}: expected a top-level list '{CATALOG_VARIABLE}'")
    return Catalog(
        _Checker(index, raw).entry() for index, raw in enumerate(document[CATALOG_VARIABLE])
    )


def load_catalog(path: Path | None = None) -> Catalog:
    """The validated catalog at ``path``, by default the collection's (cached until the file
    changes)."""
    path = path or catalog_path()
    try:
        stat = path.stat()
    except OSError as error:
        raise CatalogFileError(f"cannot read the alert catalog {path}: {error.strerror}") from None
    return _load_cached(path, stat.st_mtime_ns, stat.st_size)


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
