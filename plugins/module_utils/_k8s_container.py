# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Resources, env, probes and pod template annotations of one container of a workload.

``plan_container`` compares what is asked with what runs (quantities normalised, so ``2Gi``
equals ``2048Mi``) and builds a strategic merge patch only for what differs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re
from decimal import Decimal, InvalidOperation

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

PROBES = ("liveness_probe", "readiness_probe", "startup_probe")
PROBE_FIELDS = {
    "liveness_probe": "livenessProbe",
    "readiness_probe": "readinessProbe",
    "startup_probe": "startupProbe",
}


def parse_quantity(value):
    """A Kubernetes quantity (``500m``, ``2Gi``, ``1.5``, ``1e3``) as a Decimal."""
    text = str(value).strip()
    match = _QUANTITY.match(text)
    if not match:
        raise ValueError("invalid quantity %r" % (value,))
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        raise ValueError("invalid quantity %r" % (value,)) from None
    return number * _SUFFIXES[match.group(2) or ""]


def same_quantity(a, b):
    if a is None or b is None:
        return a is None and b is None
    try:
        return parse_quantity(a) == parse_quantity(b)
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
            if not same_quantity(have, quantity):
                patch.setdefault(section, {})[resource] = str(quantity)
    return patch


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
        if existing is None or {k: v for k, v in existing.items() if k != "name"} != {
            k: v for k, v in entry.items() if k != "name"
        }:
            if existing is not None and "valueFrom" in existing and "value" in entry:
                entry["valueFrom"] = None
            if existing is not None and "value" in existing and "valueFrom" in entry:
                entry["value"] = None
            patch.append(entry)
    for name in remove or []:
        if name in have:
            patch.append({"name": name, "$patch": "delete"})
    return patch


def _probe_patch(current, wanted):
    """Fields of ``wanted`` that differ from ``current`` (nested dicts compared by field)."""
    if wanted is None:
        return None
    current = current or {}
    patch = {}
    for key, value in wanted.items():
        have = current.get(key)
        if isinstance(value, dict) and isinstance(have, dict):
            sub = _probe_patch(have, value)
            if sub:
                patch[key] = sub
        elif value != have:
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
