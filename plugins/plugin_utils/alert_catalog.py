# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one alert resolver: from an alert name and its labels to the catalog entry.

An alert's identity lives in the alerting rules (``prometheus/rules/*.yml``): its name, its
``system`` and ``severity`` labels, its ``runbook`` label (the role that remediates it) and its
``runbook_url`` annotation. The alert catalog (``playbooks/vars/alert_catalog.yml``) holds what a
rule cannot carry, one entry per (alert, system) of the rules: aliases, the ``match`` selectors
that choose among the systems sharing a name, the catch-all, the target, the seed's severity and
the escalation. ``load()`` reads both, checks that they agree and merges them; ``Catalog.resolve``
and ``Catalog.entry`` answer with the merged entry. docs/catalog.md describes the fields and the
rules of resolution.

Self-contained (standard library and PyYAML only) so that the collection's plugins
(``sre.runbooks.alert`` lookup) and the ``runbook`` launcher, which loads this file from the
collection it found, run the same code.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import difflib
import os
import re

import yaml

CATALOG_FILE = ("playbooks", "vars", "alert_catalog.yml")
CATALOG_VARIABLE = "alert_catalog"
RULES_DIR = ("prometheus", "rules")
SEVERITIES = ("critical", "warning", "info")
TARGET_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Pod")
RELATED_KINDS = (*TARGET_KINDS, "Service", "ConfigMap", "PersistentVolumeClaim")

_ALERT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ROLE_NAME = re.compile(r"[a-z][a-z0-9_]*")
_LABEL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SYSTEM = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DURATION = re.compile(r"(0|[1-9][0-9]*)([smhd])")
# The rule's runbook_url: a link to the alert's section of docs/alerts.md.
_URL = re.compile(r"\S+#[a-z0-9]+")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# Kubernetes names in the catalog: namespaces and containers are RFC 1123 labels, the other
# kinds RFC 1123 subdomains (payload.NAME_RULES in the launcher checks alert labels likewise).
_RFC1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_RFC1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")

# From the rules: the identity. Written in the catalog, it is refused (one source only).
IDENTITY_FIELDS = ("severity", "role", "runbook_url")
_REQUIRED = (
    "alert",
    "aliases",
    "system",
    "seed_severity",
    "description",
    "condition",
    "match",
    "target",
    "escalation",
)
_OPTIONAL = ("seed", "levels", "catch_all", "excluded_namespaces", "related", "notes")
_TARGET_FIELDS = ("namespace", "kind", "name", "from_labels")


class CatalogFileError(ValueError):
    """The catalog or a rule file is missing or invalid, or they disagree; the message names the
    file, the entry or rule, and the field."""


class ResolveError(ValueError):
    """An alert name and labels select no entry, or more than one."""


class UnknownAlert(ResolveError):
    """No entry has this alert name or alias; ``suggestions`` are the closest, ``known`` all."""

    def __init__(self, alert, known, suggestions):
        self.alert = alert
        self.known = list(known)
        self.suggestions = list(suggestions)
        hint = " Did you mean: %s?" % ", ".join(suggestions) if suggestions else ""
        super(UnknownAlert, self).__init__(
            "unknown alert %r.%s Known alerts: %s" % (alert, hint, ", ".join(known))
        )


class AmbiguousAlert(ResolveError):
    """The labels match the ``match`` selectors of several entries of the name."""


class NoEntry(ResolveError):
    """No entry of the name fits the labels; the message says which labels select one."""


def duration_seconds(duration):
    """``'15m'`` -> 900. Durations are a whole number and one unit of s, m, h or d."""
    match = _DURATION.fullmatch(duration)
    if not match:
        raise ValueError("invalid duration %r: expected e.g. '0m', '15m', '2h'" % (duration,))
    return int(match.group(1)) * _DURATION_SECONDS[match.group(2)]


def _k8s_name_problem(kind, value):
    """Why ``value`` is not a Kubernetes name of ``kind``, or None."""
    if not isinstance(value, str) or not value:
        return "%s name must be a non-empty string, not %r" % (kind, value)
    if kind.lower() in ("namespace", "container"):
        pattern, limit, rule = _RFC1123_LABEL, 63, "an RFC 1123 label"
    else:
        pattern, limit, rule = _RFC1123_SUBDOMAIN, 253, "an RFC 1123 subdomain"
    if len(value) > limit or not pattern.fullmatch(value):
        return (
            "%s name %r is invalid: it must be %s (lower case letters, digits and '-', at most "
            "%d characters)" % (kind, value, rule, limit)
        )
    return None


# -- the alerting rules: identity ------------------------------------------------------------------


# libyaml's loader when PyYAML has it: the rules and the catalog are read on every run.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path, what):
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.load(handle, Loader=_LOADER)  # noqa: S506 (a safe loader)
    except OSError as error:
        raise CatalogFileError("cannot read %s %s: %s" % (what, path, error.strerror)) from None
    except yaml.YAMLError as error:
        raise CatalogFileError("%s %s is not valid YAML: %s" % (what, path, error)) from None


def _rule_files(rules_dir):
    try:
        names = sorted(name for name in os.listdir(rules_dir) if name.endswith(".yml"))
    except OSError as error:
        raise CatalogFileError(
            "cannot read the alerting rules %s: %s" % (rules_dir, error.strerror)
        ) from None
    return [os.path.join(rules_dir, name) for name in names]


def _rule_identity(path, rule):
    """``(alert, system, severity, role, runbook_url)`` of one alerting rule, checked."""
    where = "%s: rule %s" % (os.path.basename(path), rule.get("alert"))
    labels = rule.get("labels") or {}
    annotations = rule.get("annotations") or {}
    checks = (
        ("alert", rule.get("alert"), _ALERT_NAME),
        ("label system", labels.get("system"), _SYSTEM),
        ("label runbook", labels.get("runbook"), _ROLE_NAME),
        ("annotation runbook_url", annotations.get("runbook_url"), _URL),
    )
    for what, value, pattern in checks:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise CatalogFileError(
                "%s: %s %r does not match %s" % (where, what, value, pattern.pattern)
            )
    if labels.get("severity") not in SEVERITIES:
        raise CatalogFileError(
            "%s: label severity %r is not one of %s"
            % (where, labels.get("severity"), ", ".join(SEVERITIES))
        )
    return (
        rule["alert"],
        labels["system"],
        labels["severity"],
        labels["runbook"],
        annotations["runbook_url"],
    )


def load_identities(rules_dir):
    """(alert, system) -> ``{severities, role, runbook_url, files}`` from every alerting rule in
    ``rules_dir/*.yml``; severities highest first. The rules of one pair (one per severity) must
    agree on the role and the runbook URL."""
    identities = {}
    for path in _rule_files(rules_dir):
        document = _read_yaml(path, "the rule file")
        groups = document.get("groups") if isinstance(document, dict) else None
        if not isinstance(groups, list):
            raise CatalogFileError("%s: expected a top-level list 'groups'" % path)
        for group in groups:
            for rule in (group or {}).get("rules") or []:
                if not isinstance(rule, dict) or "alert" not in rule:
                    continue  # a recording rule
                alert, system, severity, role, url = _rule_identity(path, rule)
                known = identities.setdefault(
                    (alert, system),
                    {"severities": [], "role": role, "runbook_url": url, "files": []},
                )
                for field_name, what, value in (
                    ("role", "label runbook", role),
                    ("runbook_url", "annotation runbook_url", url),
                ):
                    if known[field_name] != value:
                        raise CatalogFileError(
                            "%s: rule %s (%s): %s %r differs from the other rule of this alert "
                            "and system" % (os.path.basename(path), alert, system, what, value)
                        )
                if severity in known["severities"]:
                    raise CatalogFileError(
                        "%s: rule %s (%s): two rules with severity %s"
                        % (os.path.basename(path), alert, system, severity)
                    )
                known["severities"].append(severity)
                known["files"].append(os.path.basename(path))
    for known in identities.values():
        known["severities"].sort(key=SEVERITIES.index)
    return identities


# -- the catalog: what the rules cannot carry ------------------------------------------------------


class _Checker(object):
    """Validation of one catalog entry; every message names the entry and the field."""

    def __init__(self, index, raw):
        self.raw = raw
        name = ""
        if isinstance(raw, dict):
            name = " %s (%s)" % (raw.get("alert", "?"), raw.get("system", "?"))
        self.where = "alert_catalog[%d]%s" % (index, name)

    def fail(self, field_name, problem):
        return CatalogFileError("%s: field %r: %s" % (self.where, field_name, problem))

    def string(self, value, field_name, pattern=None):
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field_name, "must be a non-empty string, not %r" % (value,))
        if "\n" in value:
            raise self.fail(field_name, "must be one line")
        if "{{" in value or "{%" in value:
            raise self.fail(field_name, "must not contain template delimiters")
        if pattern is not None and not pattern.fullmatch(value):
            raise self.fail(field_name, "%r does not match %s" % (value, pattern.pattern))
        return value

    def k8s_name(self, kind, value, field_name):
        problem = _k8s_name_problem(kind, value)
        if problem:
            raise self.fail(field_name, problem)
        return value

    def shape(self):
        raw = self.raw
        if not isinstance(raw, dict):
            raise CatalogFileError(
                "%s: must be a mapping, not %s" % (self.where, type(raw).__name__)
            )
        for field_name in _REQUIRED:
            if field_name not in raw:
                raise self.fail(field_name, "is required")
        for field_name in IDENTITY_FIELDS:
            if field_name in raw:
                raise self.fail(
                    field_name,
                    "comes from the alerting rule (label severity, label runbook, annotation "
                    "runbook_url), not from the catalog",
                )
        unknown = set(raw) - set(_REQUIRED) - set(_OPTIONAL)
        if unknown:
            raise self.fail(sorted(unknown)[0], "is not a catalog field")
        return raw

    def aliases(self, value):
        if not isinstance(value, list):
            raise self.fail("aliases", "must be a list of alert names")
        for position, alias in enumerate(value):
            self.string(alias, "aliases[%d]" % position, _ALERT_NAME)

    def escalation(self, value, field_name):
        if not isinstance(value, list):
            raise self.fail(field_name, "must be a list of {after, to}")
        seconds = []
        for position, step in enumerate(value):
            where = "%s[%d]" % (field_name, position)
            if not isinstance(step, dict) or set(step) - {"after", "to", "contact"}:
                raise self.fail(where, "must be a mapping of after, to and optional contact")
            seconds.append(
                duration_seconds(self.string(step.get("after"), where + ".after", _DURATION))
            )
            self.string(step.get("to"), where + ".to")
            if "contact" in step:
                self.string(step["contact"], where + ".contact")
        if seconds != sorted(seconds):
            raise self.fail(field_name, "steps must be in order of 'after'")

    def match(self, value):
        if not isinstance(value, list):
            raise self.fail("match", "must be a list of label selectors")
        for position, selector in enumerate(value):
            where = "match[%d]" % position
            if not isinstance(selector, dict) or not selector:
                raise self.fail(where, "must be a non-empty mapping of label: value")
            for label, label_value in selector.items():
                self.string(label, where + " key", _LABEL_NAME)
                self.string(label_value, "%s.%s" % (where, label))
                if label == "namespace":
                    self.k8s_name("namespace", label_value, "%s.%s" % (where, label))

    def selection(self, raw):
        """``match``, ``catch_all`` and ``excluded_namespaces``, checked together."""
        catch_all = raw.get("catch_all", False)
        if not isinstance(catch_all, bool):
            raise self.fail("catch_all", "must be true or false")
        self.match(raw["match"])
        if catch_all and raw["match"]:
            raise self.fail("match", "must be empty on a catch_all entry")
        excluded = raw.get("excluded_namespaces", [])
        if excluded and not catch_all:
            raise self.fail("excluded_namespaces", "is only allowed on a catch_all entry")
        if not isinstance(excluded, list):
            raise self.fail("excluded_namespaces", "must be a list of namespaces")
        for position, namespace in enumerate(excluded):
            self.k8s_name("namespace", namespace, "excluded_namespaces[%d]" % position)

    def target(self, value):
        if not isinstance(value, dict) or set(value) - set(_TARGET_FIELDS):
            raise self.fail("target", "must be a mapping with keys %s" % ", ".join(_TARGET_FIELDS))
        kind = self.string(value.get("kind"), "target.kind")
        if kind not in TARGET_KINDS:
            raise self.fail("target.kind", "%r is not one of %s" % (kind, ", ".join(TARGET_KINDS)))
        from_labels = value.get("from_labels") or {}
        if not isinstance(from_labels, dict) or set(from_labels) - {"namespace", "name"}:
            raise self.fail("target.from_labels", "must map namespace and/or name to a label")
        for field_name in ("namespace", "name"):
            if field_name in from_labels:
                self.string(
                    from_labels[field_name], "target.from_labels." + field_name, _LABEL_NAME
                )
            fixed = value.get(field_name)
            if fixed is None:
                if field_name not in from_labels:
                    raise self.fail(
                        "target." + field_name, "must be set, or taken from a label (from_labels)"
                    )
            else:
                kind_of = "namespace" if field_name == "namespace" else kind
                self.k8s_name(kind_of, fixed, "target." + field_name)

    def related(self, value):
        if not isinstance(value, list):
            raise self.fail("related", "must be a list of {namespace, kind, name, purpose}")
        for position, item in enumerate(value):
            where = "related[%d]" % position
            if not isinstance(item, dict) or set(item) != {"namespace", "kind", "name", "purpose"}:
                raise self.fail(where, "must have exactly namespace, kind, name and purpose")
            kind = self.string(item["kind"], where + ".kind")
            if kind not in RELATED_KINDS:
                raise self.fail(
                    where + ".kind", "%r is not one of %s" % (kind, ", ".join(RELATED_KINDS))
                )
            self.k8s_name("namespace", item["namespace"], where + ".namespace")
            self.k8s_name(kind, item["name"], where + ".name")
            self.string(item["purpose"], where + ".purpose")

    def levels(self, value):
        if not isinstance(value, list) or len(value) < 2:
            raise self.fail("levels", "must be a list of at least two levels")
        allowed = {"severity", "seed_severity", "condition", "escalation"}
        for position, item in enumerate(value):
            where = "levels[%d]" % position
            if not isinstance(item, dict) or set(item) - allowed:
                raise self.fail(where, "must be a mapping of %s" % ", ".join(sorted(allowed)))
            severity = self.string(item.get("severity"), where + ".severity")
            if severity not in SEVERITIES:
                raise self.fail(where + ".severity", "must be one of %s" % ", ".join(SEVERITIES))
            self.string(item.get("seed_severity"), where + ".seed_severity")
            self.string(item.get("condition"), where + ".condition")
            if "escalation" in item:
                self.escalation(item["escalation"], where + ".escalation")
        severities = [item["severity"] for item in value]
        if len(set(severities)) != len(severities):
            raise self.fail("levels", "severities must be distinct")
        if severities != sorted(severities, key=SEVERITIES.index):
            raise self.fail("levels", "must be ordered highest severity first")
        if value[0]["seed_severity"] != self.raw["seed_severity"]:
            raise self.fail("levels", "the first level must repeat seed_severity")

    def entry(self):
        """The entry as written, checked on its own (the rules are checked by ``load``)."""
        raw = self.shape()
        self.string(raw["alert"], "alert", _ALERT_NAME)
        self.aliases(raw["aliases"])
        self.string(raw["system"], "system", _SYSTEM)
        self.string(raw["seed_severity"], "seed_severity")
        self.escalation(raw["escalation"], "escalation")
        if "levels" in raw:
            self.levels(raw["levels"])
        for field_name in ("description", "condition"):
            self.string(raw[field_name], field_name)
        notes = " ".join(str(raw.get("notes") or "").split())
        if notes:
            self.string(notes, "notes")
        elif not raw["escalation"]:
            raise self.fail("escalation", "is empty: say why in 'notes'")
        self.selection(raw)
        self.target(raw["target"])
        if "related" in raw:
            self.related(raw["related"])
        return raw

    def merged(self, identity):
        """The entry with the identity its rules give: severity (the highest of its rules),
        severities, role and runbook_url."""
        raw = self.raw
        severities = identity["severities"]
        written = [level["severity"] for level in raw.get("levels", [])]
        if len(severities) > 1 and written != severities:
            raise self.fail(
                "levels",
                "the rules give severities %s (%s): one level per severity, highest first"
                % (", ".join(severities), ", ".join(identity["files"])),
            )
        if len(severities) == 1 and written:
            raise self.fail(
                "levels", "the alert has one rule (severity %s): no levels" % severities[0]
            )
        merged = {}
        for key, value in raw.items():
            if key == "seed_severity":
                merged["severity"] = severities[0]
            if key == "description":
                merged["role"] = identity["role"]
            merged[key] = copy.deepcopy(value)
        merged["notes"] = " ".join(str(raw.get("notes") or "").split())
        merged["catch_all"] = bool(raw.get("catch_all", False))
        merged["excluded_namespaces"] = list(raw.get("excluded_namespaces", []))
        merged["runbook_url"] = identity["runbook_url"]
        merged["severities"] = list(severities)
        return merged


# -- resolution ------------------------------------------------------------------------------------


def _matches(entry, labels):
    """True when one of the entry's ``match`` selectors equals ``labels`` on all of its keys."""
    return any(
        all(labels.get(key) == value for key, value in selector.items())
        for selector in entry["match"]
    )


def _selector_text(entry):
    if entry["catch_all"]:
        excluded = ", ".join(entry["excluded_namespaces"])
        return "catch-all" + (", except namespaces %s" % excluded if excluded else "")
    return " | ".join(
        ", ".join("%s=%s" % item for item in selector.items()) for selector in entry["match"]
    )


class Catalog(object):
    """The validated catalog merged with the rules' identities. Build it with ``load()``.

    Every entry is a dict: the catalog entry's fields (``alert``, ``aliases``, ``system``,
    ``seed_severity``, ``levels``, ``description``, ``condition``, ``match``, ``catch_all``,
    ``excluded_namespaces``, ``target``, ``related``, ``escalation``, ``notes``, ...) and, from
    its rules, ``severity`` (the highest), ``severities``, ``role`` and ``runbook_url``. Callers
    get copies.
    """

    def __init__(self, entries):
        self._entries = list(entries)
        self._by_name = {}
        self._by_key = {}
        self._aliases = {}
        for entry in self._entries:
            self._by_name.setdefault(entry["alert"], []).append(entry)
        for entry in self._entries:
            key = (entry["alert"], entry["system"])
            if key in self._by_key:
                raise CatalogFileError(
                    "%s (%s): more than one entry for this alert and system" % key
                )
            self._by_key[key] = entry
            for alias in entry["aliases"]:
                if alias in self._by_name:
                    raise CatalogFileError("%s (%s): alias %r is an alert name" % ((*key, alias)))
                if self._aliases.setdefault(alias, entry["alert"]) != entry["alert"]:
                    raise CatalogFileError(
                        "%s (%s): alias %r already names %s" % ((*key, alias, self._aliases[alias]))
                    )
        for name, group in self._by_name.items():
            if len([entry for entry in group if entry["catch_all"]]) > 1:
                raise CatalogFileError("%s: more than one catch_all entry" % name)
            if len(group) > 1:
                for entry in group:
                    if not entry["catch_all"] and not entry["match"]:
                        raise CatalogFileError(
                            "%s (%s): field 'match' must not be empty when several systems share "
                            "the alert name" % (name, entry["system"])
                        )

    def __iter__(self):
        return iter(copy.deepcopy(self._entries))

    def __len__(self):
        return len(self._entries)

    def names(self):
        """Every alert name, sorted."""
        return sorted(self._by_name)

    def aliases(self):
        """alias -> alert name."""
        return dict(self._aliases)

    def canonical_name(self, alert):
        """The alert name for a name or an alias (exact, case-sensitive), else UnknownAlert
        with the closest names (difflib, and any spelling that differs only in case)."""
        if alert in self._by_name:
            return alert
        if alert in self._aliases:
            return self._aliases[alert]
        candidates = list(self._by_name) + list(self._aliases)
        text = alert if isinstance(alert, str) else str(alert)
        close = difflib.get_close_matches(text, candidates, n=3, cutoff=0.6)
        folded = [name for name in candidates if name.lower() == text.lower()]
        raise UnknownAlert(alert, self.names(), list(dict.fromkeys(folded + close)))

    def by_name(self, alert):
        """Every entry of an alert name or alias, in catalog order."""
        return copy.deepcopy(self._by_name[self.canonical_name(alert)])

    def resolve(self, alert, labels=None):
        """The entry for an alert name (or alias) and the alert's labels.

        1. Among the entries of the name, those with a ``match`` selector equal to ``labels`` on
           every key of the selector are candidates; one is the answer, several are
           AmbiguousAlert.
        2. With no candidate, the name's ``catch_all`` entry is the answer unless the
           ``namespace`` label is one of its ``excluded_namespaces``; a name with a single entry
           (no catch-all) is the answer when ``labels`` hold none of the keys its selectors use.
           Otherwise NoEntry.
        3. A ``system`` label must equal the answer's system (NoEntry).
        """
        labels = dict(labels or {})
        name = self.canonical_name(alert)
        group = self._by_name[name]
        specific = [entry for entry in group if not entry["catch_all"] and _matches(entry, labels)]
        if len(specific) > 1:
            raise AmbiguousAlert(
                "%s: labels %s match the entries of several systems (%s); the labels contradict "
                "each other" % (name, labels, ", ".join(entry["system"] for entry in specific))
            )
        chosen = specific[0] if specific else self._fallback(name, group, labels)
        if "system" in labels and labels["system"] != chosen["system"]:
            raise NoEntry(
                "%s has no entry for system %r; systems: %s"
                % (name, labels["system"], ", ".join(entry["system"] for entry in group))
            )
        return copy.deepcopy(chosen)

    @staticmethod
    def _fallback(name, group, labels):
        catch_all = next((entry for entry in group if entry["catch_all"]), None)
        if (
            catch_all is not None
            and labels.get("namespace") not in catch_all["excluded_namespaces"]
        ):
            return catch_all
        keys = {key for entry in group for selector in entry["match"] for key in selector}
        if len(group) == 1 and catch_all is None and not keys & set(labels):
            return group[0]
        choices = "; ".join("%s: %s" % (entry["system"], _selector_text(entry)) for entry in group)
        raise NoEntry(
            "%s: no entry matches labels %s (%s); pass the alert's %s label"
            % (name, labels, choices, " or ".join(sorted(keys | {"system"})))
        )

    def entry(self, alert, system):
        """The entry of ``alert`` (a name or an alias) for ``system``; ``{}`` when there is none."""
        try:
            name = self.canonical_name(alert)
        except UnknownAlert:
            return {}
        return copy.deepcopy(self._by_key.get((name, system), {}))


# -- loading ---------------------------------------------------------------------------------------

_CACHE = {}


def _signature(paths):
    signature = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            return None
        signature.append((path, stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def load(collection_root, catalog_path=None, rules_dir=None):
    """The catalog of the collection at ``collection_root``: its alerting rules
    (``prometheus/rules/*.yml``) and catalog (``playbooks/vars/alert_catalog.yml``), checked
    and merged. ``catalog_path`` and ``rules_dir`` replace either file. Loaded again only when a
    file changed. CatalogFileError names the file, entry or rule, and field of any problem."""
    catalog_path = catalog_path or os.path.join(collection_root, *CATALOG_FILE)
    rules_dir = rules_dir or os.path.join(collection_root, *RULES_DIR)
    rule_files = _rule_files(rules_dir)
    signature = _signature([str(catalog_path), *rule_files])
    if signature is not None and signature in _CACHE:
        return _CACHE[signature]
    catalog = _load(str(catalog_path), str(rules_dir))
    if signature is not None:
        _CACHE.clear()  # keep one: the files of one collection rarely change
        _CACHE[signature] = catalog
    return catalog


def _load(catalog_path, rules_dir):
    document = _read_yaml(catalog_path, "the alert catalog")
    if not isinstance(document, dict) or not isinstance(document.get(CATALOG_VARIABLE), list):
        raise CatalogFileError(
            "%s: expected a top-level list '%s'" % (catalog_path, CATALOG_VARIABLE)
        )
    checkers = [_Checker(index, raw) for index, raw in enumerate(document[CATALOG_VARIABLE])]
    for checker in checkers:
        checker.entry()
    identities = load_identities(rules_dir)
    entries = []
    for checker in checkers:
        key = (checker.raw["alert"], checker.raw["system"])
        if key not in identities:
            raise CatalogFileError(
                "%s: no alerting rule in %s has alert %s and label system=%s"
                % ((checker.where, rules_dir, *key))
            )
        entries.append(checker.merged(identities[key]))
    missing = sorted(set(identities) - {(entry["alert"], entry["system"]) for entry in entries})
    if missing:
        alert, system = missing[0]
        raise CatalogFileError(
            "%s: the rule %s (system %s, %s) has no catalog entry: add one (docs/catalog.md)"
            % (catalog_path, alert, system, ", ".join(identities[missing[0]]["files"]))
        )
    return Catalog(entries)
