"""Unit tests of the simulator's building blocks (no cluster needed)."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from sre_runbooks_sandbox.apiserver import protobuf
from sre_runbooks_sandbox.apiserver.errors import ApiError, field_value
from sre_runbooks_sandbox.apiserver.patching import (
    JSON_PATCH,
    MERGE_PATCH,
    STRATEGIC_MERGE_PATCH,
    apply_patch,
    go_format,
    merge_patch,
    strategic_merge,
)
from sre_runbooks_sandbox.apiserver.selectors import field_matcher, label_matcher
from sre_runbooks_sandbox.apiserver.serialization import canonical_quantity, root_type, stored_form
from sre_runbooks_sandbox.apiserver.tables import human_duration

REFERENCE_OBJECTS = Path(__file__).parent / "reference" / "objects"


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
                    "ports": [{"containerPort": 81}, {"containerPort": 80}],
                },
            ],
            "volumes": [{"name": "w", "configMap": {"name": "c"}}],
        },
        "metadata": {"finalizers": ["f2", "f1"]},
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


# -- serialization: what the real server stores ---------------------------------------------------


def test_stored_form_drops_empty_omitempty_fields_and_keeps_structs() -> None:
    container = {
        "name": "app",
        "image": "nimify/api:2.1",
        "args": [],
        "env": [{"name": "CUDA_VISIBLE_DEVICES", "value": ""}, {"name": "A", "value": "1"}],
        "resources": {"limits": {"memory": "2048Mi", "cpu": "0.5"}, "requests": {}},
        "readinessProbe": {"initialDelaySeconds": 0, "terminationGracePeriodSeconds": 0},
        "stdin": False,
        "workingDir": "",
    }
    pod = {
        "metadata": {"name": "p", "labels": {}, "annotations": {"a": ""}, "finalizers": []},
        "spec": {"containers": [container], "nodeSelector": None, "securityContext": {}},
    }
    stored = stored_form(root_type("Pod", ""), pod)
    assert stored["metadata"] == {"name": "p", "annotations": {"a": ""}}
    assert stored["spec"]["securityContext"] == {}
    assert "nodeSelector" not in stored["spec"]
    assert stored["spec"]["containers"] == [
        {
            "name": "app",
            "image": "nimify/api:2.1",
            "env": [{"name": "CUDA_VISIBLE_DEVICES"}, {"name": "A", "value": "1"}],
            "resources": {"limits": {"memory": "2Gi", "cpu": "500m"}},
            # a pointer (*int64) keeps its zero value
            "readinessProbe": {"terminationGracePeriodSeconds": 0},
        }
    ]


def test_stored_form_of_the_other_kinds() -> None:
    deployment = {"spec": {"replicas": 0, "paused": False, "minReadySeconds": 0}}
    assert stored_form(root_type("Deployment", "apps"), deployment) == {"spec": {"replicas": 0}}
    status = {"status": {"replicas": 0, "readyReplicas": 0, "conditions": []}}
    assert stored_form(root_type("ReplicaSet", "apps"), status) == {"status": {"replicas": 0}}
    event = {"message": "", "count": 0, "reportingComponent": "", "eventTime": None}
    assert stored_form(root_type("Event", "events.k8s.io"), event) == {
        "reportingComponent": "",
        "eventTime": None,
    }
    pvc = {"spec": {"resources": {"requests": {"storage": "1073741824"}}}}
    stored = stored_form(root_type("PersistentVolumeClaim", ""), pvc)
    assert stored["spec"]["resources"]["requests"] == {"storage": "1073741824"}
    assert stored_form(root_type("ConfigMap", ""), {"data": {}, "binaryData": {}}) == {}


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("0.5", "500m"),
        ("2048Mi", "2Gi"),
        ("1536Mi", "1536Mi"),
        ("1.5Gi", "1536Mi"),
        ("1000", "1k"),
        ("1200", "1200"),
        ("1e3", "1e3"),
        ("1.5e3", "1500"),
        ("0.5Ki", "512"),
        ("100u", "100u"),
        ("0.1n", "1n"),
        ("0", "0"),
        (2, "2"),
        (0.25, "250m"),
        ("two", None),
    ],
)
def test_canonical_quantities(written: object, canonical: str | None) -> None:
    assert canonical_quantity(written) == canonical


def test_requests_and_limits_are_rounded_up_to_milli_units() -> None:
    assert canonical_quantity("100u", milli=True) == "1m"
    assert canonical_quantity("1.0001", milli=True) == "1001m"


@pytest.mark.parametrize("name", sorted(p.name for p in REFERENCE_OBJECTS.glob("*.json")))
def test_recorded_objects_are_stored_unchanged(name: str) -> None:
    recorded = json.loads((REFERENCE_OBJECTS / name).read_text(encoding="utf-8"))
    for item in recorded.get("items", [recorded]):
        type_name = root_type(item["kind"], item["apiVersion"].rpartition("/")[0])
        assert stored_form(type_name, copy.deepcopy(item)) == item


def test_field_errors_print_bad_values_as_v1_36_does() -> None:
    assert field_value({"app": "broken"}) == '{"app":"broken"}'
    assert field_value("Bad_Name") == '"Bad_Name"'
    assert field_value('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert field_value(-1) == "-1"
    assert field_value(["a", 1]) == '["a",1]'
    assert field_value({"k": "<&>"}) == '{"k":"\\u003c\\u0026\\u003e"}'


def test_probes_get_the_real_servers_defaults() -> None:
    from sre_runbooks_sandbox.apiserver.objects import apply_defaults  # noqa: PLC0415

    probe = {"httpGet": {"port": 80}, "initialDelaySeconds": 0, "periodSeconds": 0}
    deployment = {"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x:1"}]}}}}
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] = probe
    apply_defaults("Deployment", deployment)
    stored = stored_form(root_type("Deployment", "apps"), deployment)
    # As a real v1.36 server stores `readinessProbe: {httpGet: {port: 80}, initialDelaySeconds: 0}`.
    assert stored["spec"]["template"]["spec"]["containers"][0]["readinessProbe"] == {
        "failureThreshold": 3,
        "httpGet": {"path": "/", "port": 80, "scheme": "HTTP"},
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }
