"""Untrusted input: Alertmanager webhook payloads, alert labels, Kubernetes names and ``-e``
extra variables.

Everything here only validates and returns data. Values are never interpolated into a shell
command line. Ansible templates the strings it is given as extra variables, so whoever hands
these values to a playbook must mark them unsafe (``!unsafe`` / ``AnsibleUnsafeText``): an
annotation such as ``{{ lookup('pipe', ...) }}`` must stay text.
"""

import hashlib
import json
import keyword
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

MAX_PAYLOAD_BYTES = 1024 * 1024
"""The largest webhook payload accepted (1 MiB); Alertmanager's own default limit is far below."""

WEBHOOK_VERSION = "4"
ALERT_STATUSES = ("firing", "resolved")

_RFC1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_RFC1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?")
_RFC1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
"""Prometheus' grammar of label names; Alertmanager sends no other (its values are any UTF-8)."""


@dataclass(frozen=True)
class _NameRule:
    pattern: re.Pattern[str]
    max_length: int
    format: str


_LABEL = _NameRule(
    _RFC1123_LABEL,
    63,
    "an RFC 1123 label: lower case letters, digits and '-', starting and ending with a letter "
    "or digit, at most 63 characters",
)
_DNS1035 = _NameRule(
    _RFC1035_LABEL,
    63,
    "an RFC 1035 label: lower case letters, digits and '-', starting with a letter and ending "
    "with a letter or digit, at most 63 characters",
)
_SUBDOMAIN = _NameRule(
    _RFC1123_SUBDOMAIN,
    253,
    "an RFC 1123 subdomain: dot-separated lower case labels of letters, digits and '-', each "
    "starting and ending with a letter or digit, at most 253 characters",
)

NAME_RULES: dict[str, _NameRule] = {
    "namespace": _LABEL,
    "container": _LABEL,
    "service": _DNS1035,
    "pod": _SUBDOMAIN,
    "deployment": _SUBDOMAIN,
    "statefulset": _SUBDOMAIN,
    "daemonset": _SUBDOMAIN,
    "replicaset": _SUBDOMAIN,
    "configmap": _SUBDOMAIN,
    "persistentvolumeclaim": _SUBDOMAIN,
    "node": _SUBDOMAIN,
    "lease": _SUBDOMAIN,
}
"""How Kubernetes validates the name of each kind (lower case kind -> rule)."""

K8S_NAME_LABELS: dict[str, str] = {
    "namespace": "namespace",
    "pod": "pod",
    "service": "service",
    "container": "container",
    "deployment": "deployment",
    "statefulset": "statefulset",
    "daemonset": "daemonset",
}
"""Alert labels whose values are used as Kubernetes names (label -> kind), checked on every
firing alert. Other labels (``job``, ``instance``, ...) are checked where they are used as a
name (``catalog.CatalogEntry.target_for``)."""


class InputError(ValueError):
    """Bad input from a user or a sender; the launcher exits with EXIT_BAD_INPUT."""


class PayloadError(InputError):
    """The webhook payload is not a valid Alertmanager (version 4) notification."""


class InvalidNameError(InputError):
    """A value is not a valid Kubernetes name of its kind."""


class ExtraVarsError(InputError):
    """A ``-e key=value`` argument is malformed."""


class LabelError(InputError):
    """An alert label given on the command line (``--label key=value``) is malformed."""


def _shown(value: str, limit: int = 60) -> str:
    text = value if len(value) <= limit else value[:limit] + "..."
    return repr(text)


def validate_k8s_name(kind: str, value: object) -> str:
    """Return ``value`` if it is a valid Kubernetes name for ``kind``, else raise InvalidNameError.

    ``kind`` is a resource kind in any case (``namespace``, ``Deployment``, ``pod``, ...).
    """
    rule = NAME_RULES.get(kind.lower())
    if rule is None:
        raise ValueError(f"no Kubernetes name rule for kind {kind!r}")
    if not isinstance(value, str):
        raise InvalidNameError(f"{kind} name must be a string, not {type(value).__name__}")
    if not value:
        raise InvalidNameError(f"{kind} name must not be empty")
    if len(value) > rule.max_length:
        raise InvalidNameError(
            f"{kind} name {_shown(value)} is {len(value)} characters long, "
            f"at most {rule.max_length} are allowed"
        )
    if not rule.pattern.fullmatch(value):
        raise InvalidNameError(f"{kind} name {_shown(value)} is invalid: it must be {rule.format}")
    return value


def _utf8_problem(value: str) -> str | None:
    """Why ``value`` is not UTF-8 text, or None. Python strings can hold lone surrogates (from a
    JSON escape such as ``\\ud800``, or undecodable bytes of a command line); UTF-8 cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"holds {value[error.start]!r} at position {error.start}, which is not UTF-8 text"
    return None


def _label_name_problem(name: str) -> str | None:
    if LABEL_NAME.fullmatch(name):
        return None
    return (
        f"label name {_shown(name)} is invalid: Prometheus label names are letters, digits and "
        "'_', not starting with a digit"
    )


def label_problem(name: str, value: str) -> str | None:
    """What is wrong with one alert label, or None: the name must follow Prometheus' grammar
    (``[a-zA-Z_][a-zA-Z0-9_]*``), the value must be UTF-8 text, and the value of a label used as
    a Kubernetes name (``K8S_NAME_LABELS``) must be a valid name of its kind.

    Values are otherwise free text, as in Prometheus: whoever puts one into a PromQL query
    escapes it (the ``sre.runbooks.promql_selector`` filter)."""
    problem = _label_name_problem(name)
    if problem:
        return problem
    problem = _utf8_problem(value)
    if problem:
        return f"label {name!r} {problem}"
    if name in K8S_NAME_LABELS:
        try:
            validate_k8s_name(K8S_NAME_LABELS[name], value)
        except InvalidNameError as error:
            return f"label {name!r}: {error}"
    return None


@dataclass(frozen=True)
class Alert:
    """One firing alert of a webhook payload."""

    alertname: str
    labels: dict[str, str]
    annotations: dict[str, str] = field(default_factory=dict)
    fingerprint: str = ""
    starts_at: str = ""
    generator_url: str = ""
    status: str = "firing"


def labels_fingerprint(labels: Mapping[str, str]) -> str:
    """A stable fingerprint of a label set, for alerts sent without one (16 hex digits)."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _string_map(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise PayloadError(f"{where} must be an object, not {_json_type(value)}")
    for key, item in value.items():
        if not isinstance(item, str):
            raise PayloadError(f"{where}.{key} must be a string, not {_json_type(item)}")
    return dict(value)


def _label_map(value: object, where: str) -> dict[str, str]:
    """A label set: a map of strings whose keys are Prometheus label names."""
    labels = _string_map(value, where)
    for name in labels:
        problem = _label_name_problem(name)
        if problem:
            raise PayloadError(f"{where}: {problem}")
    return labels


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _optional_string(document: Mapping[str, Any], key: str, where: str) -> str:
    value = document.get(key, "")
    if not isinstance(value, str):
        raise PayloadError(f"{where}{key} must be a string, not {_json_type(value)}")
    return value


def _require(document: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in document:
        raise PayloadError(f"{where}missing required field {key!r}")
    return document[key]


def _decode(data: bytes | str) -> dict[str, Any]:
    raw = data.encode() if isinstance(data, str) else data
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise PayloadError(
            f"payload is {len(raw)} bytes, larger than the limit of {MAX_PAYLOAD_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError(f"payload is not UTF-8: {error}") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as error:
        raise PayloadError(
            f"payload is not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    except RecursionError:
        raise PayloadError("payload is not JSON that can be read: nested too deeply") from None
    if not isinstance(document, dict):
        raise PayloadError(f"payload must be a JSON object, not {_json_type(document)}")
    problem = _utf8_problem(json.dumps(document, ensure_ascii=False))
    if problem:  # a \ud800 escape: JSON allows it, UTF-8 (and Alertmanager) does not
        raise PayloadError(f"payload {problem}")
    return document


def _reject_constant(name: str) -> object:
    raise PayloadError(f"payload is not JSON: {name} is not a JSON value")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """One JSON object; a key given twice (a label set with two values of a label) is refused."""
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise PayloadError(f"payload has the key {_shown(key)} twice in one object")
        document[key] = value
    return document


def _check_envelope(document: Mapping[str, Any]) -> list[Any]:
    version = _require(document, "version", "")
    if version != WEBHOOK_VERSION:
        raise PayloadError(
            f"unsupported webhook version {version!r}: only Alertmanager's version "
            f"{WEBHOOK_VERSION!r} is understood"
        )
    status = _require(document, "status", "")
    if status not in ALERT_STATUSES:
        raise PayloadError(f"status must be 'firing' or 'resolved', not {status!r}")
    for key in ("receiver", "groupKey", "externalURL"):
        _optional_string(document, key, "")
    for key in ("groupLabels", "commonLabels"):
        if key in document:
            _label_map(document[key], key)
    if "commonAnnotations" in document:
        _string_map(document["commonAnnotations"], "commonAnnotations")
    truncated = document.get("truncatedAlerts", 0)
    if isinstance(truncated, bool) or not isinstance(truncated, int) or truncated < 0:
        raise PayloadError("truncatedAlerts must be a non-negative integer")
    alerts = _require(document, "alerts", "")
    if not isinstance(alerts, list):
        raise PayloadError(f"alerts must be an array, not {_json_type(alerts)}")
    return alerts


def _parse_alert(item: object, index: int) -> Alert:
    where = f"alerts[{index}]"
    if not isinstance(item, dict):
        raise PayloadError(f"{where} must be an object, not {_json_type(item)}")
    status = _require(item, "status", f"{where}: ")
    if status not in ALERT_STATUSES:
        raise PayloadError(f"{where}.status must be 'firing' or 'resolved', not {status!r}")
    labels = _label_map(_require(item, "labels", f"{where}: "), f"{where}.labels")
    alertname = labels.get("alertname", "")
    if not alertname:
        raise PayloadError(f"{where}.labels has no alertname")
    annotations = _string_map(item.get("annotations", {}), f"{where}.annotations")
    fingerprint = _optional_string(item, "fingerprint", f"{where}.")
    starts_at = _optional_string(item, "startsAt", f"{where}.")
    _optional_string(item, "endsAt", f"{where}.")
    generator_url = _optional_string(item, "generatorURL", f"{where}.")
    return Alert(
        alertname=alertname,
        labels=labels,
        annotations=annotations,
        fingerprint=fingerprint or labels_fingerprint(labels),
        starts_at=starts_at,
        generator_url=generator_url,
        status=status,
    )


def _check_names(alert: Alert, index: int) -> None:
    for name, value in alert.labels.items():
        problem = label_problem(name, value)
        if problem:
            raise PayloadError(f"alerts[{index}] ({alert.alertname}): {problem}")


def parse_payload(data: bytes | str) -> list[Alert]:
    """The firing alerts of an Alertmanager webhook payload, one per fingerprint, in order.

    Resolved alerts are never returned. Every alert is checked for shape and types, and every
    label name against Prometheus' grammar; firing alerts also have their labels checked with
    ``label_problem`` (UTF-8 values, Kubernetes-name labels). A missing
    fingerprint is replaced by a hash of the sorted labels (``labels_fingerprint``).
    """
    alerts = _check_envelope(_decode(data))
    firing: dict[str, Alert] = {}
    for index, item in enumerate(alerts):
        alert = _parse_alert(item, index)
        if alert.status != "firing" or alert.fingerprint in firing:
            continue
        _check_names(alert, index)
        firing[alert.fingerprint] = alert
    return list(firing.values())


def read_payload(source: str | Path | BinaryIO) -> list[Alert]:
    """``parse_payload`` of a file (a path, or an open binary stream such as stdin's buffer).

    At most ``MAX_PAYLOAD_BYTES + 1`` bytes are read, so an oversized input is refused without
    being loaded whole.
    """
    if isinstance(source, str | Path):
        try:
            with Path(source).open("rb") as stream:
                data = stream.read(MAX_PAYLOAD_BYTES + 1)
        except OSError as error:
            raise PayloadError(f"cannot read payload {source}: {error.strerror}") from None
    else:
        data = source.read(MAX_PAYLOAD_BYTES + 1)
    return parse_payload(data)


def parse_extra_vars(items: Iterable[str]) -> dict[str, str]:
    """``-e key=value`` arguments as a dict of strings.

    Keys must be identifiers (letters, digits, ``_``; not starting with a digit; not a Python
    keyword), each given once. Values are kept verbatim as strings (``=`` may appear in them).
    """
    result: dict[str, str] = {}
    for item in items:
        key, separator, value = item.partition("=")
        if not separator:
            raise ExtraVarsError(f"extra variable {_shown(item)} is not of the form key=value")
        if not _IDENTIFIER.fullmatch(key) or keyword.iskeyword(key):
            raise ExtraVarsError(
                f"extra variable name {_shown(key)} is invalid: use letters, digits and '_', "
                "not starting with a digit"
            )
        if key in result:
            raise ExtraVarsError(f"extra variable {key!r} is given more than once")
        problem = _utf8_problem(value)
        if problem:
            raise ExtraVarsError(f"extra variable {key!r} {problem}")
        result[key] = value
    return result


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    """``--label key=value`` arguments as a label set, checked as a payload's labels are.

    Each name follows Prometheus' grammar and is given once; each value is checked with
    ``label_problem`` (UTF-8 text; a valid Kubernetes name for ``namespace``, ``pod``, ...).
    Values are kept verbatim (``=`` may appear in them). ``alertname`` is the ALERT argument,
    never a ``--label``.
    """
    result: dict[str, str] = {}
    for item in items:
        name, separator, value = item.partition("=")
        if not separator:
            raise LabelError(f"--label {_shown(item)} is not of the form key=value")
        if name == "alertname":
            raise LabelError("--label alertname is not allowed: the alert name is ALERT")
        if name in result:
            raise LabelError(f"--label {name!r} is given more than once")
        problem = label_problem(name, value)
        if problem:
            raise LabelError(f"--label: {problem}")
        result[name] = value
    return result
