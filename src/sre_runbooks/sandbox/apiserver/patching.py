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
    for key, value in patch.items():
        if key.startswith("$deleteFromPrimitiveList/"):
            field = key.split("/", 1)[1]
            result[field] = [v for v in result.get(field, []) if v not in value]
        elif not key.startswith("$"):  # $setElementOrder/ only orders; $retainKeys: see below
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


def _merge_list(field: str, original: object, patch: list) -> list:
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        return [_strip(i) for i in patch if not (isinstance(i, dict) and "$patch" in i)]
    current = list(original) if isinstance(original, list) else []
    if field in SET_LISTS:
        return current + [v for v in patch if v not in current]
    key = _merge_key(field, current + patch)
    if key is None:
        return [_strip(i) for i in patch]
    for item in patch:
        if not isinstance(item, dict):
            raise bad_request(f"unable to find api field in struct {field} for the json field")
        index = next(
            (
                n
                for n, old in enumerate(current)
                if isinstance(old, dict) and old.get(key) == item.get(key)
            ),
            None,
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del current[index]
        elif index is None:
            current.append(_strip(item))
        else:
            current[index] = _merge_map(current[index], item)
    return current


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
