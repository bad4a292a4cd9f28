"""Decode Kubernetes protobuf request bodies into the JSON objects the server stores.

kubectl's typed clients (`kubectl create namespace|deployment|configmap|secret|service`) send
`Content-Type: application/vnd.kubernetes.protobuf`: the magic bytes `k8s\\0`, then a
runtime.Unknown envelope whose `raw` field holds the object. Answers stay JSON, which client-go
accepts whatever it asked for.

`data/protobuf.json` maps each message of the served kinds to {field number: [JSON name, type,
repeated]}; it was derived from the `generated.proto` files of k8s.io/api and
k8s.io/apimachinery. Go encodes non-pointer fields even when empty, so empty strings, false and
zero numbers are dropped again (the JSON encoder's `omitempty`), except for the few pointer
fields where a zero is meaningful.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources

from .errors import bad_request

CONTENT_TYPE = "application/vnd.kubernetes.protobuf"
MAGIC = b"k8s\x00"
_META = "k8s.io.apimachinery.pkg.apis.meta.v1."
# Pointer fields whose zero value must survive decoding.
_KEEP_ZERO = frozenset(
    {
        "replicas",
        "partition",
        "revisionHistoryLimit",
        "terminationGracePeriodSeconds",
        "gracePeriodSeconds",
        "tolerationSeconds",
        "defaultMode",
        "leaseDurationSeconds",
    }
)


@cache
def _schema() -> dict[str, dict[str, list]]:
    text = resources.files(__package__).joinpath("data/protobuf.json").read_text("utf-8")
    return json.loads(text)


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(data: bytes) -> list[tuple[int, int, object]]:
    """Split a message into (field number, wire type, raw value)."""
    out, pos = [], 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            value, pos = data[pos : pos + length], pos + length
        elif wire == 1:
            value, pos = int.from_bytes(data[pos : pos + 8], "little"), pos + 8
        elif wire == 5:
            value, pos = int.from_bytes(data[pos : pos + 4], "little"), pos + 4
        else:
            raise bad_request(f"unsupported protobuf wire type {wire}")
        out.append((number, wire, value))
    return out


def _signed(value: int, bits: int) -> int:
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def _scalar(kind: str, wire: int, value: object) -> list:
    if kind in {"int32", "int64"}:
        if wire == 2:  # packed
            items, pos, data = [], 0, value
            while pos < len(data):  # type: ignore[arg-type]
                item, pos = _varint(data, pos)  # type: ignore[arg-type]
                items.append(_signed(item, 64))
            return items
        return [_signed(value, 64)]  # type: ignore[arg-type]
    if kind == "bool":
        return [bool(value)]
    if kind == "string":
        return [bytes(value).decode("utf-8")]  # type: ignore[arg-type]
    return [base64.b64encode(bytes(value)).decode()]  # type: ignore[arg-type]


def _time(obj: dict) -> str | None:
    if not obj:
        return None
    return datetime.fromtimestamp(obj.get("seconds", 0), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_time(obj: dict) -> str | None:
    if not obj:
        return None
    stamp = datetime.fromtimestamp(obj.get("seconds", 0), UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{obj.get('nanos', 0) // 1000:06d}Z"


def _raw_json(obj: dict) -> object:
    raw = obj.get("raw") or obj.get("Raw")
    return json.loads(base64.b64decode(raw)) if raw else None


# Types with their own JSON form.
_SPECIAL = {
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString": lambda o: (
        o.get("strVal", "") if o.get("type") == 1 else o.get("intVal", 0)
    ),
    "k8s.io.apimachinery.pkg.api.resource.Quantity": lambda o: o.get("string", ""),
    _META + "Time": _time,
    _META + "MicroTime": _micro_time,
    _META + "FieldsV1": _raw_json,
    "k8s.io.apimachinery.pkg.runtime.RawExtension": _raw_json,
}


def _map_entry(kind: str, data: bytes) -> tuple[str, object]:
    """Decode one map<string, X> entry (a message with key = 1 and value = 2)."""
    entry: dict[int, tuple[int, object]] = {n: (w, v) for n, w, v in _fields(data)}
    key = bytes(entry[1][1]).decode() if 1 in entry else ""  # type: ignore[arg-type]
    if 2 not in entry:
        return key, "" if kind in {"string", "bytes"} else {}
    if kind in _schema():
        return key, decode_message(kind, entry[2][1])  # type: ignore[arg-type]
    return key, _scalar(kind, *entry[2])[0]


def decode_message(name: str, data: bytes) -> object:
    """Decode one message of type `name` into its JSON value."""
    schema = _schema()[name]
    obj: dict = {}
    for number, wire, value in _fields(data):
        field = schema.get(str(number))
        if field is None:
            continue  # a field newer than our schema; the real server would keep it
        key, kind, repeated = field
        if kind.startswith("map:"):
            map_key, decoded = _map_entry(kind[4:], value)  # type: ignore[arg-type]
            obj.setdefault(key, {})[map_key] = decoded
            continue
        nested = kind in _schema()
        values = [decode_message(kind, value)] if nested else _scalar(kind, wire, value)  # type: ignore[arg-type]
        if repeated:
            obj.setdefault(key, []).extend(values)
        else:
            obj[key] = values[-1]
    for key in list(obj):
        value = obj[key]
        if value is None or (
            value in ("", False, 0) and key not in _KEEP_ZERO and not isinstance(value, dict)
        ):
            del obj[key]
    special = _SPECIAL.get(name)
    return special(obj) if special else obj


def _message_name(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    if kind == "DeleteOptions":
        return _META + "DeleteOptions"
    package = {
        "": "core",
        "apps": "apps",
        "autoscaling": "autoscaling",
        "events.k8s.io": "events",
        "coordination.k8s.io": "coordination",
        "networking.k8s.io": "networking",
        "storage.k8s.io": "storage",
        "meta.k8s.io": "meta",
    }.get(group, group.split(".")[0])
    return f"k8s.io.api.{package}.{version}.{kind}"


def decode(body: bytes) -> dict:
    """Decode a `k8s\\0`-prefixed protobuf request body into a JSON object."""
    if not body.startswith(MAGIC):
        raise bad_request("the protobuf body does not start with the Kubernetes magic prefix")
    envelope = decode_message("k8s.io.apimachinery.pkg.runtime.Unknown", body[len(MAGIC) :])
    type_meta = envelope.get("typeMeta") or {}  # type: ignore[union-attr]
    api_version, kind = type_meta.get("apiVersion", ""), type_meta.get("kind", "")
    name = _message_name(api_version, kind)
    if name not in _schema():
        raise bad_request(f"no protobuf decoding for {api_version} {kind}")
    raw = base64.b64decode(envelope.get("raw", ""))  # type: ignore[union-attr]
    obj = decode_message(name, raw)
    if not isinstance(obj, dict):
        raise bad_request("the protobuf body is not an object")
    return {"apiVersion": api_version, "kind": kind, **obj}
