"""Unit tests of the simulator's building blocks (no cluster needed)."""

from __future__ import annotations

import base64

import pytest

from sre_runbooks.sandbox.apiserver import protobuf
from sre_runbooks.sandbox.apiserver.errors import ApiError
from sre_runbooks.sandbox.apiserver.patching import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    go_format,
    merge_patch,
    strategic_merge,
)
from sre_runbooks.sandbox.apiserver.selectors import field_matcher, label_matcher
from sre_runbooks.sandbox.apiserver.tables import human_duration


def _pod(labels: dict[str, str], **status: str) -> dict:
    return {"metadata": {"name": "p", "namespace": "n", "labels": labels}, "status": status}


@pytest.mark.parametrize(
    ("selector", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("tier in (a, b),app", {"tier": "b", "app": "x"}, True),
        ("tier notin (a,b)", {"tier": "a"}, False),
        ("!tier", {"app": "x"}, True),
        ("tier", {"app": "x"}, False),
    ],
)
def test_label_selectors(selector: str, labels: dict[str, str], expected: bool) -> None:
    assert label_matcher(selector)(_pod(labels)) is expected


def test_field_selectors_and_unknown_fields() -> None:
    assert field_matcher("status.phase=Running,metadata.name=p", "Pod")(_pod({}, phase="Running"))
    assert not field_matcher("status.phase!=Running", "Pod")(_pod({}, phase="Running"))
    with pytest.raises(ApiError) as caught:
        field_matcher("spec.bogus=x", "ConfigMap")
    assert caught.value.code == 400


def test_strategic_merge_by_merge_keys_and_directives() -> None:
    original = {
        "spec": {
            "containers": [
                {"name": "a", "image": "x:1", "ports": [{"containerPort": 80}]},
                {"name": "b", "image": "y:1"},
            ],
            "volumes": [{"name": "v", "emptyDir": {}}],
        },
        "metadata": {"finalizers": ["f1"]},
    }
    patch = {
        "spec": {
            "containers": [
                {"name": "a", "ports": [{"containerPort": 81}]},
                {"name": "b", "$patch": "delete"},
            ],
            "volumes": [{"$patch": "replace"}, {"name": "w", "configMap": {"name": "c"}}],
        },
        "metadata": {"finalizers": ["f2"]},
    }
    assert strategic_merge(original, patch) == {
        "spec": {
            "containers": [
                {
                    "name": "a",
                    "image": "x:1",
                    "ports": [{"containerPort": 80}, {"containerPort": 81}],
                },
            ],
            "volumes": [{"name": "w", "configMap": {"name": "c"}}],
        },
        "metadata": {"finalizers": ["f1", "f2"]},
    }
    replaced = strategic_merge(
        {"spec": {"template": {"a": 1, "b": 2}}},
        {"spec": {"template": {"$patch": "replace", "c": 3}}},
    )
    assert replaced == {"spec": {"template": {"c": 3}}}
    assert strategic_merge({"a": {"b": 1}, "c": 2}, {"a": None, "args": ["x"]}) == {
        "c": 2,
        "args": ["x"],
    }


def test_merge_patch_follows_rfc_7386() -> None:
    assert merge_patch({"a": "b", "c": {"d": "e", "f": "g"}}, {"a": "z", "c": {"f": None}}) == {
        "a": "z",
        "c": {"d": "e"},
    }
    assert merge_patch({"a": [1, 2]}, {"a": [3]}) == {"a": [3]}


def test_apply_patch_types_and_errors() -> None:
    deploy = {"metadata": {"name": "d"}, "spec": {"replicas": 1}}
    assert (
        apply_patch(MERGE_PATCH, "Deployment", deploy, b'{"spec":{"replicas":2}}')["spec"][
            "replicas"
        ]
        == 2
    )
    ops = b'[{"op":"replace","path":"/spec/replicas","value":3}]'
    assert apply_patch(JSON_PATCH, "Deployment", deploy, ops)["spec"]["replicas"] == 3
    with pytest.raises(ApiError) as bad_json:
        apply_patch(STRATEGIC_MERGE_PATCH, "Deployment", deploy, b"{nope")
    assert bad_json.value.code == 400
    with pytest.raises(ApiError) as wrong_type:
        apply_patch(STRATEGIC_MERGE_PATCH, "Deployment", deploy, b'{"spec":{"replicas":"x"}}')
    assert wrong_type.value.code == 422
    assert wrong_type.value.body["details"]["causes"][0]["message"] == (
        'Invalid value: "map[spec:map[replicas:x]]": unrecognized type: int32'
    )
    assert go_format({"b": [1, True, None], "a": 2.0}) == "map[a:2 b:[1 true <nil>]]"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (5, "5s"),
        (119, "119s"),
        (185, "3m5s"),
        (600, "10m"),
        (3 * 3600 + 60, "3h1m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 7200, "3d2h"),
        (400 * 86400, "400d"),
        (3 * 365 * 86400 + 86400, "3y1d"),
        (10 * 365 * 86400, "10y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


def _varint(value: int) -> bytes:
    out = b""
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out += bytes([byte | 0x80])
        else:
            return out + bytes([byte])


def _field(number: int, payload: bytes | int | str) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    data = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def test_protobuf_bodies_decode_to_json() -> None:
    # A Secret as kubectl's typed client encodes it: empty strings and a zero Time included.
    meta = (
        _field(1, "s1")
        + _field(2, "")
        + _field(8, b"")
        + _field(11, _field(1, "k") + _field(2, "v"))
    )
    secret = (
        _field(1, meta) + _field(2, _field(1, "a") + _field(2, b"\x00\x01")) + _field(3, "Opaque")
    )
    envelope = _field(1, _field(1, "v1") + _field(2, "Secret")) + _field(2, secret)
    decoded = protobuf.decode(protobuf.MAGIC + envelope)
    assert decoded == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s1", "labels": {"k": "v"}},
        "data": {"a": base64.b64encode(b"\x00\x01").decode()},
        "type": "Opaque",
    }
    with pytest.raises(ApiError):
        protobuf.decode(b"not protobuf")
