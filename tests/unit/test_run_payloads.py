"""Generated payloads and label values: bad ones exit 2 and run nothing, good ones resolve."""

import json
from pathlib import Path
from typing import Any

import ansible_runner
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sre_runbooks import cli
from sre_runbooks import run as runs
from sre_runbooks.catalog import AlertResolutionError, load_catalog
from sre_runbooks.payload import InputError, InvalidNameError, parse_payload, validate_k8s_name

EXAMPLES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
TARGET = runs.Target(Path("/nonexistent"), ("alpha", "beta"), ("clusters",), "test inventory")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
names = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from("abcdefghijklmnopqrstuvwxyz"),
    st.text(_ALNUM + "-", max_size=20),
    st.sampled_from(_ALNUM),
)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, fake_role: Any) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("payloads")
    inventory = root / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    alpha:\n    beta:\n")
    roles = root / "roles"
    for role in {entry.role for entry in load_catalog()}:
        fake_role(roles, role, [entry.system for entry in load_catalog() if entry.role == role])
    return {"root": root, "inventory": inventory, "roles": roles}


@pytest.fixture
def never_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    calls: list[dict] = []

    def recorder(**kwargs: object) -> None:
        calls.append(kwargs)
        raise AssertionError("ansible_runner.run must not be called")

    monkeypatch.setattr(ansible_runner, "run", recorder)
    monkeypatch.setattr(runs, "remediate", lambda *a, **k: pytest.fail("remediate was called"))
    return calls


def run_payload(env: dict[str, Path], data: bytes) -> int:
    path = env["root"] / "payload.json"
    path.write_bytes(data)
    argv = ["run", "--alert-file", str(path), "--inventory", str(env["inventory"])]
    argv += ["--artifacts-dir", str(env["root"] / "runs")]
    return cli.main(argv, playbooks_dir=env["root"], roles_dir=env["roles"])


@EXAMPLES
@given(document=json_values)
def test_random_json_shapes_run_nothing(env, never_runs, capsys, document):
    code = run_payload(env, json.dumps(document).encode())
    capsys.readouterr()
    assert code == cli.EXIT_BAD_INPUT
    assert never_runs == []


@EXAMPLES
@given(
    version=st.one_of(st.text(max_size=3), st.integers(), st.none()).filter(lambda v: v != "4"),
    status=st.sampled_from(["firing", "resolved"]),
)
def test_other_versions_run_nothing(env, never_runs, capsys, version, status):
    item = {"status": "firing", "labels": {"alertname": "HighErrorRate", "system": "nimify"}}
    data = json.dumps({"version": version, "status": status, "alerts": [item]}).encode()
    assert run_payload(env, data) == cli.EXIT_BAD_INPUT
    assert "unsupported webhook version" in capsys.readouterr().err
    assert never_runs == []


@EXAMPLES
@given(value=st.text(max_size=70), label=st.sampled_from(["namespace", "pod", "service"]))
def test_label_values_that_are_not_names_run_nothing(env, never_runs, capsys, value, label):
    kind = {"namespace": "namespace", "pod": "pod", "service": "service"}[label]
    try:
        validate_k8s_name(kind, value)
    except InvalidNameError:
        pass
    else:
        assume(False)
    labels = {"alertname": "HighErrorRate", "namespace": "nimify-system", label: value}
    document = {
        "version": "4",
        "status": "firing",
        "alerts": [{"status": "firing", "labels": labels}],
    }
    data = json.dumps(document).encode()
    assert run_payload(env, data) == cli.EXIT_BAD_INPUT
    assert f"label {label!r}" in capsys.readouterr().err
    assert never_runs == []


def test_oversized_payload_runs_nothing(env, never_runs, capsys):
    assert run_payload(env, b" " * (runs.MAX_PAYLOAD_BYTES + 1)) == cli.EXIT_BAD_INPUT
    assert "larger than the limit" in capsys.readouterr().err
    assert never_runs == []


alerts = st.fixed_dictionaries(
    {
        "status": st.sampled_from(["firing", "resolved"]),
        "fingerprint": st.sampled_from(["f1", "f2", "f3", "f4"]),
        "labels": st.fixed_dictionaries(
            {
                "alertname": st.sampled_from(["HighErrorRate", "HighLatency", "ServiceDown"]),
                "namespace": names,
                "service": names,
                "cluster": st.sampled_from(["alpha", "beta"]),
            },
            optional={"summary": st.text(max_size=30)},
        ),
        "annotations": st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=30)),
    }
)


@EXAMPLES
@given(items=st.lists(alerts, max_size=6))
def test_good_payloads_resolve_one_job_per_firing_fingerprint(env, items):
    catalog = load_catalog()
    data = json.dumps({"version": "4", "status": "firing", "alerts": items}).encode()
    try:
        plan = runs.plan_payload(catalog, data, TARGET, roles_dir=env["roles"])
    except AlertResolutionError as error:
        # Only a namespace the catch-all entry excludes may fail to resolve.
        assert "no entry matches" in str(error)
        return
    firing = {item["fingerprint"]: item for item in reversed(items) if item["status"] == "firing"}
    assert sorted(job.fingerprint for job in plan.jobs) == sorted(firing)
    assert len(plan.jobs) == len(parse_payload(data))
    for job in plan.jobs:
        assert job.limit == job.labels["cluster"]
        assert job.labels["alertname"] == job.alert
        assert job.entry.role
    resolved = sum(1 for item in items if item["status"] == "resolved")
    assert len(plan.skipped) == resolved


@EXAMPLES
@given(namespace=names, service=names)
def test_good_label_values_resolve_a_target(env, namespace, service):
    catalog = load_catalog()
    labels = {"alertname": "HighErrorRate", "namespace": namespace, "service": service}
    try:
        entry = catalog.resolve("HighErrorRate", labels)
    except AlertResolutionError:
        assume(False)
        return
    target = entry.target_for(labels)
    assert target["kind"] == "Deployment"


def test_a_named_alert_resolves_with_system_from_the_catalog(env):
    job = runs.plan_named(load_catalog(), "CacheHitRatelow", roles_dir=env["roles"])
    assert job.alert == "CacheHitRateLow"
    assert job.labels == {"alertname": "CacheHitRateLow", "system": "nimify"}
    job = runs.plan_named(
        load_catalog(), "HighErrorRate", namespace="api-optimizer", roles_dir=env["roles"]
    )
    assert job.labels == {
        "alertname": "HighErrorRate",
        "namespace": "api-optimizer",
        "system": "api-optimizer",
    }


@pytest.mark.parametrize(
    ("alert", "namespace"), [("ServiceLatencyHigh", None), ("HighErrorRate", "shop")]
)
def test_a_named_alert_needing_a_label_is_bad_input(env, alert, namespace):
    with pytest.raises(AlertResolutionError, match="needs the alert label"):
        runs.plan_named(load_catalog(), alert, namespace=namespace, roles_dir=env["roles"])
    assert issubclass(runs.NoRoleError, InputError)
