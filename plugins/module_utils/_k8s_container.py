# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resources, env, probes and pod template annotations of one container of a workload.

``plan_container`` compares what is asked with what runs, both as the API server stores them
(empty fields dropped, defaults filled in, quantities rounded and canonical, so ``2Gi`` equals
``2048Mi`` and ``value: ""`` equals no value), and builds a strategic merge patch only for
what differs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import copy
import re
from decimal import ROUND_UP, Decimal, InvalidOperation

from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError, target_text

_SUFFIXES = {
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}
_QUANTITY = re.compile(
    r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$"
)

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}

PROBES = ("liveness_probe", "readiness_probe", "startup_probe")
PROBE_FIELDS = {
    "liveness_probe": "livenessProbe",
    "readiness_probe": "readinessProbe",
    "startup_probe": "startupProbe",
}


def _split_quantity(value):
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("invalid quantity %r" % (value,))
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError("invalid quantity %r" % (value,)) from None
    return match.group(1), number, match.group(2) or ""


def parse_quantity(value):
    """A Kubernetes quantity (``500m``, ``2Gi``, ``1.5``, ``1e3``) as a Decimal."""
    number, suffix = _split_quantity(value)[1:]
    return number * _SUFFIXES[suffix]


def _round_up(number, exponent):
    """Round away from zero to a multiple of 10**exponent, as the server does."""
    return number.quantize(Decimal(1).scaleb(exponent), rounding=ROUND_UP)


def quantity_value(value, resource=False):
    """The value the server keeps: rounded up to 1n, or to 1m in requests and limits."""
    number = parse_quantity(value)
    if number == 0:
        return Decimal(0)
    return _round_up(number, -3 if resource else -9)


def canonical_quantity(value, resource=False):
    """A quantity as the API server writes it back (``0.5`` is ``500m``, ``2048Mi`` is ``2Gi``).

    The suffix family is kept (binary, decimal or exponent), the largest suffix that leaves a
    whole number is chosen; binary values under 1Ki or with a fraction are shown in decimal.
    """
    digits, _number, suffix = _split_quantity(value)
    amount = quantity_value(value, resource)
    if amount == 0:
        return "0"
    if suffix in _BINARY and (abs(amount) >= 1024 and amount == amount.to_integral_value()):
        whole, power = int(amount), 0
        while whole % 1024 == 0 and power < len(_BINARY) - 1:
            whole, power = whole // 1024, power + 1
        return "%d%s" % (whole, _BINARY[power])
    sign, mantissa_digits, exponent = amount.normalize().as_tuple()
    mantissa = int("".join(map(str, mantissa_digits)) or "0")
    mantissa, exponent = mantissa * 10 ** (exponent % 3), exponent - exponent % 3
    text = "%s%d" % ("-" if sign else "", mantissa)
    if "e" in digits.lower():
        return text + ("e%d" % exponent if exponent else "")
    return text + _DECIMAL.get(exponent, "e%d" % exponent)


def same_quantity(a, b, resource=False):
    if a is None or b is None:
        return a is None and b is None
    try:
        return quantity_value(a, resource) == quantity_value(b, resource)
    except ValueError:
        return str(a) == str(b)


def _resources_patch(current, wanted):
    """The part of ``wanted`` (requests/limits) that differs from ``current``."""
    patch = {}
    for section in ("requests", "limits"):
        for resource, quantity in ((wanted or {}).get(section) or {}).items():
            have = ((current or {}).get(section) or {}).get(resource)
            if quantity is None:
                if have is not None:
                    patch.setdefault(section, {})[resource] = None
                continue
            parse_quantity(quantity)
            if not same_quantity(have, quantity, resource=True):
                patch.setdefault(section, {})[resource] = str(quantity)
    return patch


# Probe fields the server fills in when they are left out or zero, and an HTTP probe's.
PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}
HTTP_GET_DEFAULTS = {"path": "/", "scheme": "HTTP"}


def _is_empty(value):
    """What an ``omitempty`` field of the API drops: null, empty strings, lists and maps."""
    return value is None or (isinstance(value, (str, list, dict)) and len(value) == 0)


def _pruned(value):
    """A value with its empty fields dropped, recursively, as the server serializes it."""
    if isinstance(value, dict):
        kept = ((k, _pruned(v)) for k, v in value.items())
        return {k: v for k, v in kept if not _is_empty(v)}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def _stored_value_from(source):
    """An EnvVarSource as stored: empty fields dropped, fieldRef's apiVersion and
    resourceFieldRef's divisor defaulted, the divisor in its canonical form."""
    source = _pruned(source or {})
    if "fieldRef" in source:
        source["fieldRef"].setdefault("apiVersion", "v1")
    if "resourceFieldRef" in source:
        ref = source["resourceFieldRef"]
        with contextlib.suppress(ValueError):  # the server refuses it; leave it as written
            ref["divisor"] = canonical_quantity(ref.get("divisor", "0"))
    return source


def _stored_env(entry):
    """An EnvVar as stored: no empty ``value``, its ``valueFrom`` normalised."""
    stored = {"name": entry["name"]}
    if not _is_empty(entry.get("value")):
        stored["value"] = str(entry["value"])
    if not _is_empty(entry.get("valueFrom")):
        stored["valueFrom"] = _stored_value_from(entry["valueFrom"])
    return stored


def _env_item(item):
    entry = {"name": item["name"]}
    if item.get("value_from") is not None:
        entry["valueFrom"] = item["value_from"]
    else:
        entry["value"] = "" if item.get("value") is None else str(item["value"])
    return entry


def _env_patch(current, wanted, remove):
    have = {e["name"]: e for e in current or []}
    patch = []
    for item in wanted or []:
        entry = _env_item(item)
        existing = have.get(entry["name"])
        if existing is None or _stored_env(existing) != _stored_env(entry):
            if existing is not None and "valueFrom" in existing and "value" in entry:
                entry["valueFrom"] = None
            if existing is not None and "value" in existing and "valueFrom" in entry:
                entry["value"] = None
            patch.append(entry)
    for name in remove or []:
        if name in have:
            patch.append({"name": name, "$patch": "delete"})
    return patch


def _stored_field(key, value, defaults):
    """One probe field as stored: empty means absent, zero or empty means the default."""
    if key in defaults and (_is_empty(value) or (value == 0 and not isinstance(value, bool))):
        return defaults[key]
    if key == "initialDelaySeconds" and value == 0 and not isinstance(value, bool):
        return None
    return None if _is_empty(value) else _pruned(value)


def _probe_patch(current, wanted, defaults=None):
    """Fields of ``wanted`` that differ from ``current`` (nested dicts compared by field), both
    taken as the server stores them."""
    if wanted is None:
        return None
    defaults = PROBE_DEFAULTS if defaults is None else defaults
    current = current or {}
    patch = {}
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, dict) and isinstance(have, dict):
            sub = _probe_patch(have, value, HTTP_GET_DEFAULTS if key == "httpGet" else {})
            if sub:
                patch[key] = sub
        elif _stored_field(key, value, defaults) != _stored_field(key, have, defaults):
            patch[key] = value
    return patch


def find_container(obj, name):
    for container in (((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get(
        "containers"
    ) or []:
        if container.get("name") == name:
            return container
    return None


def plan_container(obj, params):
    """The strategic merge patch for the options, or None when everything is as asked."""
    container = find_container(obj, params["container"])
    if container is None:
        names = [c.get("name") for c in obj["spec"]["template"]["spec"].get("containers") or []]
        raise ValueError(
            "no container %r in the pod template (containers: %s)"
            % (params["container"], ", ".join(names))
        )
    change = {}
    if params.get("resources"):
        resources = _resources_patch(container.get("resources"), params["resources"])
        if resources:
            change["resources"] = resources
    env = _env_patch(container.get("env"), params.get("env"), params.get("env_remove"))
    if env:
        change["env"] = env
    for option in PROBES:
        probe = _probe_patch(container.get(PROBE_FIELDS[option]), params.get(option))
        if probe:
            change[PROBE_FIELDS[option]] = probe
    template_patch = {}
    annotations = {}
    have = ((obj["spec"]["template"].get("metadata") or {}).get("annotations")) or {}
    for key, given in (params.get("annotations") or {}).items():
        value = None if given is None else str(given)
        if have.get(key) != value and not (value is None and key not in have):
            annotations[key] = value
    if annotations:
        template_patch["metadata"] = {"annotations": annotations}
    if change:
        change["name"] = params["container"]
        template_patch["spec"] = {"containers": [change]}
    if not template_patch:
        return None
    return {"spec": {"template": template_patch}}


def container_view(obj, name):
    container = copy.deepcopy(find_container(obj, name) or {})
    annotations = ((obj["spec"]["template"].get("metadata") or {}).get("annotations")) or {}
    return dict(container=container, annotations=dict(annotations))


def run_container_patch(client, params, check_mode=False):
    kind, namespace, name = params["kind"], params["namespace"], params["name"]
    obj = client.get(kind, namespace, name)
    try:
        patch = plan_container(obj, params)
    except ValueError as error:
        raise K8sError("patch", target_text(kind, namespace, name), message=str(error)) from None
    before = container_view(obj, params["container"])
    if patch is None:
        return dict(changed=False, before=before, after=before, patch=None), dict(
            before=before, after=before
        )
    after_obj = client.patch(kind, namespace, name, patch, dry_run=check_mode)
    after = container_view(after_obj, params["container"])
    return dict(changed=True, before=before, after=after, patch=patch), dict(
        before=before, after=after
    )
