"""The three patch types the API server accepts, applied to plain JSON objects.

* JSON patch (RFC 6902) is delegated to the `jsonpatch` package.
* JSON merge patch (RFC 7386) is a few lines.
* Strategic merge patch is Kubernetes' own: lists of named things (containers, env, volumes,
  ports...) are merged item by item on a merge key instead of being replaced, and `$patch`,
  `$retainKeys`, `$setElementOrder/` and `$deleteFromPrimitiveList/` directives steer it. The merge
  keys come from the Kubernetes type definitions (`patchMergeKey` struct tags); the table below
  covers the types this server serves.
"""

from __future__ import annotations

import copy
import json

import jsonpatch

from .errors import ApiError, bad_request, invalid

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)
# Server-side apply; see ApiRequestHandler._apply.
APPLY_PATCH = "application/apply-patch+yaml"

# field name -> patchMergeKey. `ports` depends on where it appears, see _merge_key().
MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "schedulingGates": "name",
}
# Lists of scalars merged as sets (patchStrategy "merge" on a []string).
SET_LISTS = frozenset({"finalizers"})
_DELETED = object()


def _merge_key(field: str, items: list) -> str | None:
    if field == "ports":
        dicts = [i for i in items if isinstance(i, dict)]
        # Container ports merge on containerPort, Service ports on port.
        if any("containerPort" in i for i in dicts):
            return "containerPort"
        return "port" if dicts else None
    return MERGE_KEYS.get(field)


def _strip(value: object) -> object:
    """Drop directive keys from a value that is added as a whole."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not k.startswith("$") and v is not None}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _merge_map(original: object, patch: dict) -> object:
    directive = patch.get("$patch")
    if directive == "replace":
        return _strip(patch)
    if directive == "delete":
        return _DELETED
    if directive is not None:
        raise bad_request(f"Unknown patch type: {directive}")
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    patch = dict(patch)
    # $setElementOrder/<list> orders a list (and the patch's items of it) before the rest.
    for key in [k for k in patch if k.startswith("$setElementOrder/")]:
        field, order = key.split("/", 1)[1], patch.pop(key)
        if not isinstance(order, list):
            raise bad_request("invalid type for $setElementOrder list")
        _set_element_order(result, field, order, patch.pop(field, None))
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
        elif not key.startswith("$"):  # $retainKeys: see below
            _merge_field(result, key, value)
    if isinstance(patch.get("$retainKeys"), list):
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _merge_field(result: dict, key: str, value: object) -> None:
    if isinstance(value, dict):
        value = _merge_map(result.get(key), value)
    elif isinstance(value, list):
        value = _merge_list(key, result.get(key), value)
    if value is None or value is _DELETED:
        result.pop(key, None)
    else:
        result[key] = value


def _identity(item: object, key: str | None) -> object:
    """What identifies a list item: its merge key's value, or the scalar itself."""
    return item.get(key) if key is not None and isinstance(item, dict) else item


def _position(items: list, item: object, key: str | None) -> int | None:
    wanted = _identity(item, key)
    return next((n for n, other in enumerate(items) if _identity(other, key) == wanted), None)


def _ordered(merged: list, order: list, server: list, key: str | None) -> list:
    """The merged list in the order the real server gives it (strategicpatch's
    normalizeElementOrder): the items named in `order` (the patch, or its $setElementOrder) in
    that order, the others in the live list's order, the two interleaved by their places in
    the live list, where an item the live list lacks (a new one) goes first."""
    named = [i for i in merged if _position(order, i, key) is not None]
    others = [i for i in merged if _position(order, i, key) is None]
    named.sort(key=lambda item: _position(order, item, key))
    others.sort(key=lambda item: _position(server, item, key) or 0)
    result = []
    while named or others:
        if others and named:
            left, right = _position(server, others[0], key), _position(server, named[0], key)
            take_left = left is not None and right is not None and left < right
        else:
            take_left = bool(others)
        result.append(others.pop(0) if take_left else named.pop(0))
    return result


def _merge_list(field: str, original: object, patch: list) -> list:
    current = list(original) if isinstance(original, list) else []
    if field in SET_LISTS and not any(isinstance(i, dict) for i in patch):
        merged = current + [v for v in patch if v not in current]
        return _ordered(merged, patch, current, None)
    key = _merge_key(field, current + patch)
    if key is None:
        return [_strip(i) for i in patch]
    plain = []
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"unable to find api field in struct {field} for the json field")
        directive = item.get("$patch")
        if directive is None:
            plain.append(item)
        elif directive == "delete":
            current = [o for o in current if _identity(o, key) != item.get(key)]
        elif directive == "replace":
            return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
        else:
            raise bad_request(f"Unknown patch type: {directive}")
    merged = list(current)
    for item in plain:
        index = _position(merged, item, key)
        if index is None:
            merged.append(_strip(item))
        else:
            merged[index] = _merge_map(merged[index], item)
    return _ordered(merged, plain, current, key)


def _set_element_order(result: dict, field: str, order: list, patch: object) -> None:
    """Apply a list's patch (if any) and its $setElementOrder directive."""
    original = result.get(field)
    if isinstance(original, list) and isinstance(patch, list):
        merged = _merge_list(field, original, patch)
    elif isinstance(patch, list):
        merged = [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    elif isinstance(original, list):
        merged = list(original)
    else:
        return
    dicts = [i for i in merged + order if isinstance(i, dict)]
    key = _merge_key(field, dicts) if dicts else None
    result[field] = _ordered(merged, order, original if isinstance(original, list) else [], key)


def strategic_merge(original: dict, patch: dict) -> dict:
    """Apply a strategic merge patch."""
    merged = _merge_map(original, patch)
    return merged if isinstance(merged, dict) else {}


def merge_patch(original: object, patch: object) -> object:
    """Apply an RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(original) if isinstance(original, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def go_format(value: object) -> str:
    """Render a decoded JSON value the way Go's `%+v` prints a map[string]interface{}.

    The real server quotes the patch in this form in some error messages.
    """
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Integer fields whose wrong type clients most often send by mistake (e.g. replicas: "3").
_INT32_FIELDS = {
    "Deployment": (("spec", "replicas"), ("spec", "revisionHistoryLimit")),
    "ReplicaSet": (("spec", "replicas"),),
    "StatefulSet": (("spec", "replicas"),),
    "Scale": (("spec", "replicas"),),
}


def _type_error(kind: str, obj: dict) -> str | None:
    for path in _INT32_FIELDS.get(kind, ()):
        node: object = obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None and (isinstance(node, bool) or not isinstance(node, int)):
            return "int32"
    return None


def apply_patch(content_type: str, kind: str, original: dict, body: bytes) -> dict:
    """Apply a PATCH request body of the given content type to an object."""
    try:
        patch = json.loads(body or b"null")
    except ValueError as exc:
        raise bad_request(f"error decoding patch: {exc}") from exc
    if content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        try:
            result = jsonpatch.apply_patch(original, patch)
        except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as exc:
            raise ApiError(422, "Invalid", str(exc), {}) from exc
    elif content_type == MERGE_PATCH:
        result = merge_patch(original, patch)
    else:
        if not isinstance(patch, dict):
            raise bad_request(
                "json: cannot unmarshal array into Go value of type map[string]interface {}"
            )
        result = strategic_merge(original, patch)
    if not isinstance(result, dict):
        raise bad_request("the patch did not produce an object")
    if (wrong := _type_error(kind, result)) is not None:
        if content_type == STRATEGIC_MERGE_PATCH:
            raise invalid(
                "",
                "",
                [
                    (
                        "patch",
                        "FieldValueInvalid",
                        f'Invalid value: "{go_format(patch)}": unrecognized type: {wrong}',
                    )
                ],
            )
        raise bad_request(f"json: cannot unmarshal into Go struct field of type {wrong}")
    return result
