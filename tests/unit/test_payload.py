"""Alertmanager webhook payloads, Kubernetes names and -e extra variables are validated."""

import io
import json
import keyword
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sre_runbooks.payload import (
    MAX_PAYLOAD_BYTES,
    ExtraVarsError,
    InvalidNameError,
    LabelError,
    PayloadError,
    labels_fingerprint,
    parse_extra_vars,
    parse_labels,
    parse_payload,
    read_payload,
    validate_k8s_name,
)

EXAMPLES = settings(max_examples=100, deadline=None)

# ----- strategies -----

_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
dns_labels = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(_ALNUM),
    st.text(_ALNUM + "-", max_size=40),
    st.sampled_from(_ALNUM),
) | st.sampled_from(_ALNUM)
subdomains = (
    st.lists(dns_labels, min_size=1, max_size=4).map(".".join).filter(lambda name: len(name) <= 253)
)
fingerprints = st.text("0123456789abcdef", min_size=16, max_size=16)


@st.composite
def alerts(draw: st.DrawFn, status: str | None = None) -> dict[str, Any]:
    labels = {
        "alertname": draw(st.sampled_from(["HighErrorRate", "PodRestart", "DatabaseDown"])),
        "namespace": draw(dns_labels),
        "severity": draw(st.sampled_from(["critical", "warning", "info"])),
    }
    if draw(st.booleans()):
        labels["pod"] = draw(subdomains)
    alert: dict[str, Any] = {
        "status": status or draw(st.sampled_from(["firing", "resolved"])),
        "labels": labels,
        "annotations": {"summary": draw(st.text(max_size=30))},
        "startsAt": "2026-11-22T21:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
    }
    if draw(st.integers(0, 9)):  # mostly present, sometimes missing
        alert["fingerprint"] = draw(fingerprints)
    return alert


def envelope(alert_list: list[dict[str, Any]], **changes: Any) -> dict[str, Any]:
    document = {
        "version": "4",
        "groupKey": '{}:{alertname="HighErrorRate"}',
        "truncatedAlerts": 0,
        "status": "firing" if any(a.get("status") == "firing" for a in alert_list) else "resolved",
        "receiver": "runbook",
        "groupLabels": {"alertname": "HighErrorRate"},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": alert_list,
    }
    document.update(changes)
    return document


def firing(fingerprint: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": "HighErrorRate", "namespace": "nimify-system", **labels},
        "annotations": {},
        "fingerprint": fingerprint,
    }


def resolved(fingerprint: str) -> dict[str, Any]:
    return {**firing(fingerprint), "status": "resolved"}


# ----- round trip -----


def _expected_fingerprint(alert: dict[str, Any]) -> str:
    return alert.get("fingerprint") or labels_fingerprint(alert["labels"])


@EXAMPLES
@given(st.lists(alerts(), max_size=12), st.randoms(use_true_random=False))
def test_valid_payloads_return_each_firing_fingerprint_once(alert_list, rng):
    # Alertmanager HA peers send the same alerts twice: duplicate some, in any order.
    doubled = alert_list + [a for a in alert_list if rng.random() < 0.5]
    rng.shuffle(doubled)
    result = parse_payload(json.dumps(envelope(doubled)))
    firing_prints = {_expected_fingerprint(a) for a in doubled if a["status"] == "firing"}
    assert len(result) == len(firing_prints)
    assert {alert.fingerprint for alert in result} == firing_prints
    assert all(alert.status == "firing" for alert in result)


@EXAMPLES
@given(st.lists(alerts(status="resolved"), max_size=8))
def test_resolved_alerts_are_never_returned(alert_list):
    assert parse_payload(json.dumps(envelope(alert_list))) == []


def test_two_firing_and_one_resolved_yield_exactly_two():
    document = envelope([firing("a1"), resolved("b2"), firing("c3")])
    result = parse_payload(json.dumps(document).encode())
    assert [alert.fingerprint for alert in result] == ["a1", "c3"]
    assert result[0].alertname == "HighErrorRate"
    assert result[0].labels["namespace"] == "nimify-system"


def test_duplicated_fingerprints_yield_one_alert():
    document = envelope([firing("a1"), firing("a1"), firing("a1")])
    assert len(parse_payload(json.dumps(document))) == 1


def test_missing_fingerprint_falls_back_to_a_hash_of_the_sorted_labels():
    first = firing("")
    del first["fingerprint"]
    second = {**first, "labels": dict(reversed(list(first["labels"].items())))}
    result = parse_payload(json.dumps(envelope([first, second])))
    assert len(result) == 1
    assert result[0].fingerprint == labels_fingerprint(first["labels"])
    assert len(result[0].fingerprint) == 16


def test_a_firing_alert_with_the_fingerprint_of_a_resolved_one_is_kept():
    result = parse_payload(json.dumps(envelope([resolved("a1"), firing("a1")])))
    assert [alert.status for alert in result] == ["firing"]


def test_read_payload_reads_files_and_streams(tmp_path):
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(envelope([firing("a1")])))
    assert len(read_payload(path)) == 1
    assert len(read_payload(str(path))) == 1
    assert len(read_payload(io.BytesIO(path.read_bytes()))) == 1
    with pytest.raises(PayloadError, match="cannot read payload"):
        read_payload(tmp_path / "absent.json")


# ----- malformed payloads -----


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("", "not JSON"),
        ("{", "not JSON"),
        ("{'version': '4'}", "not JSON"),
        ('{"version": "4", "status": "firing", "alerts": [NaN]}', "NaN is not a JSON value"),
        (b"\xff\xfe", "not UTF-8"),
        ("[" * 100_000, "nested too deeply|not JSON"),
        ("[]", "must be a JSON object, not an array"),
        ('"firing"', "must be a JSON object, not a string"),
    ],
)
def test_malformed_json_is_refused(data, message):
    with pytest.raises(PayloadError, match=message):
        parse_payload(data)


def test_oversized_payload_is_refused_before_parsing():
    padding = "x" * MAX_PAYLOAD_BYTES
    document = json.dumps(envelope([firing("a1", note=padding)]))
    with pytest.raises(PayloadError, match=f"limit of {MAX_PAYLOAD_BYTES} bytes"):
        parse_payload(document)
    with pytest.raises(PayloadError, match="larger than the limit"):
        read_payload(io.BytesIO(b" " * (MAX_PAYLOAD_BYTES + 10)))


def test_payload_at_the_limit_is_accepted():
    document = json.dumps(envelope([firing("a1")]))
    padded = document + " " * (MAX_PAYLOAD_BYTES - len(document))
    assert len(padded.encode()) == MAX_PAYLOAD_BYTES
    assert len(parse_payload(padded)) == 1


@pytest.mark.parametrize("version", ["3", 4, "5", None, ""])
def test_wrong_version_is_refused(version):
    with pytest.raises(PayloadError, match="unsupported webhook version"):
        parse_payload(json.dumps(envelope([firing("a1")], version=version)))


@pytest.mark.parametrize("field", ["version", "status", "alerts"])
def test_missing_top_level_fields_are_refused(field):
    document = envelope([firing("a1")])
    del document[field]
    with pytest.raises(PayloadError, match=f"missing required field '{field}'"):
        parse_payload(json.dumps(document))


@pytest.mark.parametrize("field", ["status", "labels"])
def test_missing_alert_fields_are_refused(field):
    alert = firing("a1")
    del alert[field]
    with pytest.raises(PayloadError, match=rf"alerts\[0\]: missing required field '{field}'"):
        parse_payload(json.dumps(envelope([alert], status="firing")))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alerts": {"a": 1}}, "alerts must be an array, not an object"),
        ({"alerts": ["x"]}, r"alerts\[0\] must be an object, not a string"),
        ({"status": "pending"}, "status must be 'firing' or 'resolved'"),
        ({"receiver": 7}, "receiver must be a string, not a number"),
        ({"commonLabels": []}, "commonLabels must be an object, not an array"),
        ({"groupLabels": {"a": 1}}, r"groupLabels\.a must be a string"),
        ({"truncatedAlerts": True}, "truncatedAlerts must be a non-negative integer"),
        ({"truncatedAlerts": -1}, "truncatedAlerts must be a non-negative integer"),
    ],
)
def test_wrong_envelope_types_are_refused(changes, message):
    with pytest.raises(PayloadError, match=message):
        parse_payload(json.dumps(envelope([firing("a1")], **changes)))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": ["alertname"]}, r"alerts\[0\]\.labels must be an object, not an array"),
        ({"labels": {"alertname": "X", "replicas": 3}}, r"labels\.replicas must be a string"),
        ({"labels": {"namespace": "x"}}, "has no alertname"),
        ({"labels": {"alertname": ""}}, "has no alertname"),
        ({"annotations": {"summary": None}}, r"annotations\.summary must be a string, not null"),
        ({"status": "active"}, r"alerts\[0\]\.status must be 'firing' or 'resolved'"),
        ({"fingerprint": 12}, r"alerts\[0\]\.fingerprint must be a string"),
        ({"startsAt": False}, r"alerts\[0\]\.startsAt must be a string, not a boolean"),
        ({"generatorURL": {}}, r"alerts\[0\]\.generatorURL must be a string"),
    ],
)
def test_wrong_alert_types_are_refused(changes, message):
    alert = {**firing("a1"), **changes}
    with pytest.raises(PayloadError, match=message):
        parse_payload(json.dumps(envelope([alert], status="firing")))


@EXAMPLES
@given(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=10),
        st.lists(st.integers(), max_size=3),
    )
)
def test_any_wrong_type_of_labels_is_a_payload_error(value):
    alert = {**firing("a1"), "labels": value}
    with pytest.raises(PayloadError, match=r"alerts\[0\]\.labels must be an object"):
        parse_payload(json.dumps(envelope([alert], status="firing")))


# ----- Kubernetes names in labels -----

SHELL_NAMES = [
    "a;reboot",
    "$(id)",
    "`id`",
    "a b",
    "a\nb",
    "a|b",
    "a&&b",
    "../etc",
    "-leading",
    "trailing-",
    "UPPER",
    "name_with_underscore",
    "",
]


@pytest.mark.parametrize("value", SHELL_NAMES)
@pytest.mark.parametrize("label", ["namespace", "pod", "service", "container", "deployment"])
def test_labels_used_as_kubernetes_names_refuse_shell_and_invalid_values(label, value):
    alert = firing("a1", **{label: value})
    with pytest.raises(PayloadError, match=rf"label '{label}'"):
        parse_payload(json.dumps(envelope([alert])))


@EXAMPLES
@given(
    st.sampled_from(["namespace", "pod", "service"]),
    st.text(min_size=1, max_size=20).filter(lambda text: any(c not in _ALNUM + "-." for c in text)),
)
def test_generated_label_values_with_foreign_characters_are_refused(label, value):
    with pytest.raises(PayloadError, match=rf"alerts\[0\] \(HighErrorRate\): label '{label}'"):
        parse_payload(json.dumps(envelope([firing("a1", **{label: value})])))


@st.composite
def spoiled_names(draw: st.DrawFn) -> str:
    """A valid name made invalid: a shell metacharacter, upper case, space or newline put
    anywhere, a leading dash, or too many characters."""
    name = draw(dns_labels)
    how = draw(st.sampled_from(["insert", "leading-dash", "too-long"]))
    if how == "leading-dash":
        return "-" + name
    if how == "too-long":
        return name + "a" * 254
    bad = draw(st.sampled_from([";", "$(", "`", " ", "\n", "A", "|", "&", ">", "'", '"', "_"]))
    position = draw(st.integers(0, len(name)))
    return name[:position] + bad + name[position:]


@EXAMPLES
@given(st.sampled_from(["namespace", "pod", "service", "container"]), spoiled_names())
def test_generated_invalid_names_are_refused_naming_the_label(label, value):
    with pytest.raises(PayloadError, match=rf"label '{label}': {label} name"):
        parse_payload(json.dumps(envelope([firing("a1", **{label: value})])))


@EXAMPLES
@given(dns_labels.filter(lambda name: len(name) <= 63), subdomains)
def test_generated_valid_names_are_accepted(namespace, pod):
    (alert,) = parse_payload(json.dumps(envelope([firing("a1", namespace=namespace, pod=pod)])))
    assert alert.labels["namespace"] == namespace
    assert alert.labels["pod"] == pod


def test_names_of_resolved_alerts_are_not_checked():
    alert = {**firing("a1", namespace="Not;Checked"), "status": "resolved"}
    assert parse_payload(json.dumps(envelope([alert]))) == []


def test_other_labels_are_kept_verbatim():
    alert = firing("a1", job="serviceMonitor/shop/cart/0", instance="10.0.0.1:8080")
    (parsed,) = parse_payload(json.dumps(envelope([alert])))
    assert parsed.labels["job"] == "serviceMonitor/shop/cart/0"


# ----- validate_k8s_name -----


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("namespace", "a" * 63),
        ("namespace", "nimify-system"),
        ("Deployment", "nimify-api"),
        ("pod", "postgres-0"),
        ("pod", "a.b.c"),
        ("pod", ".".join(["a" * 63] * 3) + "." + "b" * 61),
        ("service", "api-gateway"),
        ("StatefulSet", "postgres"),
    ],
)
def test_valid_kubernetes_names(kind, value):
    assert validate_k8s_name(kind, value) == value


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("namespace", "a" * 64, "64 characters long, at most 63"),
        ("namespace", "a.b", "RFC 1123 label"),
        ("pod", "a" * 254, "at most 253"),
        ("pod", "a..b", "RFC 1123 subdomain"),
        ("service", "1abc", "RFC 1035 label"),
        ("namespace", "-x", "invalid"),
        ("namespace", "", "must not be empty"),
        ("namespace", 5, "must be a string"),
    ],
)
def test_invalid_kubernetes_names(kind, value, message):
    with pytest.raises(InvalidNameError, match=message):
        validate_k8s_name(kind, value)


def test_unknown_kind_is_a_programming_error():
    with pytest.raises(ValueError, match="no Kubernetes name rule"):
        validate_k8s_name("Gadget", "x")


@EXAMPLES
@given(st.text(max_size=300))
def test_validate_k8s_name_accepts_only_what_the_subdomain_grammar_allows(value):
    try:
        validate_k8s_name("pod", value)
    except InvalidNameError:
        return
    assert 0 < len(value) <= 253
    assert set(value) <= set(_ALNUM + "-.")
    assert all(part and part[0] != "-" and part[-1] != "-" for part in value.split("."))


# ----- extra variables -----


def test_extra_vars_are_parsed():
    assert parse_extra_vars(["a=1", "b_2=x=y", "_c=", "ansible_check_mode=true"]) == {
        "a": "1",
        "b_2": "x=y",
        "_c": "",
        "ansible_check_mode": "true",
    }
    assert parse_extra_vars([]) == {}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("novalue", "not of the form key=value"),
        ("=x", "name '' is invalid"),
        ("1a=x", "is invalid"),
        ("a-b=x", "is invalid"),
        ("a b=x", "is invalid"),
        ("$(id)=x", "is invalid"),
        ("class=x", "is invalid"),
        ("é=x", "is invalid"),
    ],
)
def test_malformed_extra_vars_are_refused(item, message):
    with pytest.raises(ExtraVarsError, match=message):
        parse_extra_vars([item])


def test_extra_var_given_twice_is_refused():
    with pytest.raises(ExtraVarsError, match="more than once"):
        parse_extra_vars(["a=1", "a=2"])


@EXAMPLES
@given(st.dictionaries(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True), st.text()))
def test_generated_extra_vars_round_trip(variables):
    variables = {key: value for key, value in variables.items() if not keyword.iskeyword(key)}
    assert parse_extra_vars([f"{key}={value}" for key, value in variables.items()]) == variables


def test_extra_var_that_is_not_utf8_is_refused():
    # Undecodable command line bytes reach Python as lone surrogates.
    with pytest.raises(ExtraVarsError, match=r"'note' holds '\\udcff'.* not UTF-8"):
        parse_extra_vars(["note=a\udcff"])


# ----- label names and values: what Alertmanager can send -----

PROMETHEUS_LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
BAD_LABEL_NAMES = ["$(id)", "a-b", "1a", "a b", "a.b", "é", "", "a\nb", "{{ x }}", "job="]


@pytest.mark.parametrize("name", BAD_LABEL_NAMES)
@pytest.mark.parametrize("status", ["firing", "resolved"])
def test_a_label_name_outside_prometheus_grammar_makes_the_payload_malformed(name, status):
    alert = {**firing("a1", **{name: "x"}), "status": status}
    with pytest.raises(PayloadError, match=r"alerts\[0\]\.labels: label name .* is invalid"):
        parse_payload(json.dumps(envelope([alert])))


@pytest.mark.parametrize("field", ["groupLabels", "commonLabels"])
def test_label_names_of_the_group_and_common_labels_are_checked(field):
    document = envelope([firing("a1")], **{field: {"$(id)": "x"}})
    with pytest.raises(PayloadError, match=rf"{field}: label name '\$\(id\)' is invalid"):
        parse_payload(json.dumps(document))


@EXAMPLES
@given(st.text(max_size=12))
def test_generated_label_names_are_accepted_exactly_when_prometheus_accepts_them(name):
    document = json.dumps(envelope([firing("a1", **{name: "x"})]))
    if re.fullmatch(PROMETHEUS_LABEL_NAME, name):
        (alert,) = parse_payload(document)
        assert alert.labels[name] == "x"
    else:
        with pytest.raises(PayloadError, match="label name"):
            parse_payload(document)


@EXAMPLES
@given(st.text(max_size=200))
def test_any_utf8_value_of_a_free_label_is_kept_verbatim(value):
    (alert,) = parse_payload(json.dumps(envelope([firing("a1", job=value, note=value)])))
    assert alert.labels["job"] == value
    assert alert.labels["note"] == value


@pytest.mark.parametrize(
    "alert",
    [
        firing("a1", job="\ud800"),
        {**firing("a1"), "annotations": {"summary": "x\udfff"}},
        {**firing("a1"), "status": "resolved", "labels": {"alertname": "X", "job": "\udc00"}},
    ],
)
def test_a_lone_surrogate_escape_is_not_utf8_and_refused(alert):
    # JSON's \ud800 escape decodes to a lone surrogate, which UTF-8 cannot encode.
    with pytest.raises(PayloadError, match="not UTF-8 text"):
        parse_payload(json.dumps(envelope([alert])))


def test_a_label_given_twice_in_one_label_set_is_refused():
    text = json.dumps(envelope([firing("a1")])).replace(
        '"namespace": "nimify-system"', '"namespace": "nimify-system", "namespace": "kube-system"'
    )
    assert text.count('"namespace"') == 2
    with pytest.raises(PayloadError, match="key 'namespace' twice"):
        parse_payload(text)


# ----- --label -----


def test_labels_are_parsed_like_a_payloads():
    assert parse_labels(["pod=nimify-api-0", 'job=x"} or vector(1)', "note=a=b", "_e="]) == {
        "pod": "nimify-api-0",
        "job": 'x"} or vector(1)',
        "note": "a=b",
        "_e": "",
    }
    assert parse_labels([]) == {}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("pod", "--label 'pod' is not of the form key=value"),
        ("=x", "label name '' is invalid"),
        ("a-b=1", "label name 'a-b' is invalid"),
        ("$(id)=1", r"label name '\$\(id\)' is invalid"),
        ("é=1", "label name 'é' is invalid"),
        ("alertname=PodRestart", "the alert name is ALERT"),
        ("pod=Bad_Pod", "label 'pod': pod name 'Bad_Pod' is invalid"),
        ("namespace=$(reboot)", "label 'namespace': namespace name"),
        ("service=", "label 'service': service name must not be empty"),
        ("note=\udcff", "label 'note' holds .* not UTF-8 text"),
    ],
)
def test_malformed_labels_are_refused(item, message):
    with pytest.raises(LabelError, match=message):
        parse_labels([item])


def test_label_given_twice_is_refused():
    with pytest.raises(LabelError, match="'pod' is given more than once"):
        parse_labels(["pod=a", "pod=a"])


@EXAMPLES
@given(
    st.dictionaries(
        st.from_regex(PROMETHEUS_LABEL_NAME, fullmatch=True).filter(
            lambda name: (
                name not in {"alertname", "namespace", "pod", "service", "container"}
                and name not in {"deployment", "statefulset", "daemonset"}
            )
        ),
        st.text(),
        max_size=6,
    )
)
def test_generated_labels_round_trip(labels):
    assert parse_labels([f"{name}={value}" for name, value in labels.items()]) == labels
