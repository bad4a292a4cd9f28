"""k8s_container_patch compares what is asked with the container as the API server stores it.

A real server drops empty (omitempty) fields, fills in defaults and rounds quantities before it
stores a container; a plan that compared the request as written would patch again on every run.
Each test below is one of those normalisations.
"""

import copy

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_container as container


def workload(**fields):
    """A Deployment whose container `app` carries `fields`, as a real server returns it."""
    app = {"name": "app", "image": "nimify/api:2.1", "resources": {}}
    app.update(copy.deepcopy(fields))
    return {
        "kind": "Deployment",
        "metadata": {"name": "api", "namespace": "prod"},
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "api"}},
                "spec": {"containers": [app]},
            }
        },
    }


def plan(obj, **params):
    return container.plan_container(obj, {"container": "app", **params})


# Empty values are not stored ------------------------------------------------------------------


def test_empty_env_value_is_stored_without_a_value():
    # The CPU-only fallback sets CUDA_VISIBLE_DEVICES=""; a real server stores the variable
    # without `value` (an omitempty string).
    obj = workload(env=[{"name": "CUDA_VISIBLE_DEVICES"}])
    assert plan(obj, env=[{"name": "CUDA_VISIBLE_DEVICES", "value": ""}]) is None
    assert plan(obj, env=[{"name": "CUDA_VISIBLE_DEVICES", "value": None}]) is None


def test_emptying_a_set_variable_is_a_change():
    obj = workload(env=[{"name": "CUDA_VISIBLE_DEVICES", "value": "0"}])
    patch = plan(obj, env=[{"name": "CUDA_VISIBLE_DEVICES", "value": ""}])
    change = patch["spec"]["template"]["spec"]["containers"][0]
    assert change["env"] == [{"name": "CUDA_VISIBLE_DEVICES", "value": ""}]


def test_variable_without_value_becomes_one_from_a_source():
    obj = workload(env=[{"name": "TOKEN"}])
    source = {"secretKeyRef": {"name": "api", "key": "token"}}
    patch = plan(obj, env=[{"name": "TOKEN", "value_from": source}])
    change = patch["spec"]["template"]["spec"]["containers"][0]
    assert change["env"] == [{"name": "TOKEN", "valueFrom": source}]


def test_empty_probe_fields_are_not_stored():
    probe = {
        "failureThreshold": 3,
        "httpGet": {"path": "/health", "port": 8000, "scheme": "HTTP"},
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }
    obj = workload(readinessProbe=probe)
    wanted = {"initialDelaySeconds": 0, "httpGet": {"path": "/health", "httpHeaders": []}}
    assert plan(obj, readiness_probe=wanted) is None


# Defaults the server fills in -----------------------------------------------------------------


def test_probe_defaults_count_as_set():
    probe = {
        "failureThreshold": 3,
        "httpGet": {"path": "/", "port": 8000, "scheme": "HTTP"},
        "periodSeconds": 10,
        "successThreshold": 1,
        "timeoutSeconds": 1,
    }
    obj = workload(livenessProbe=probe)
    # 0 means "the default" for these fields; an empty path and scheme are defaulted too.
    wanted = {"timeoutSeconds": 0, "failureThreshold": 0, "httpGet": {"path": "", "scheme": ""}}
    assert plan(obj, liveness_probe=wanted) is None
    patch = plan(obj, liveness_probe={"failureThreshold": 5})
    assert patch["spec"]["template"]["spec"]["containers"][0]["livenessProbe"] == {
        "failureThreshold": 5
    }


def test_field_reference_gets_the_default_api_version():
    obj = workload(
        env=[
            {
                "name": "POD_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            }
        ]
    )
    source = {"fieldRef": {"fieldPath": "metadata.name"}}
    assert plan(obj, env=[{"name": "POD_NAME", "value_from": source}]) is None


def test_resource_field_reference_gets_the_default_divisor():
    stored = {"containerName": "app", "divisor": "0", "resource": "limits.memory"}
    obj = workload(env=[{"name": "MEM", "valueFrom": {"resourceFieldRef": stored}}])
    source = {"resourceFieldRef": {"containerName": "app", "resource": "limits.memory"}}
    assert plan(obj, env=[{"name": "MEM", "value_from": source}]) is None
    stored_mi = dict(stored, divisor="1Mi")
    obj = workload(env=[{"name": "MEM", "valueFrom": {"resourceFieldRef": stored_mi}}])
    source_bytes = {"resourceFieldRef": dict(source["resourceFieldRef"], divisor="1048576")}
    assert plan(obj, env=[{"name": "MEM", "value_from": source_bytes}]) is None


# Canonical quantities -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0.5", "500m"),
        ("2048Mi", "2Gi"),
        ("1536Mi", "1536Mi"),
        ("1.5Gi", "1536Mi"),
        ("1000", "1k"),
        ("1200", "1200"),
        ("1e3", "1e3"),
        ("0.5Ki", "512"),
        ("100u", "100u"),
        ("0", "0"),
        (2, "2"),
        (0.25, "250m"),
    ],
)
def test_canonical_quantity_is_the_servers_form(written, stored):
    assert container.canonical_quantity(written) == stored


def test_resource_quantities_are_rounded_up_to_milli_units():
    # The server rounds requests and limits up to 1m before storing them.
    obj = workload(resources={"requests": {"cpu": "1m"}, "limits": {"cpu": "1m"}})
    assert plan(obj, resources={"requests": {"cpu": "0.0001"}, "limits": {"cpu": "100u"}}) is None
    assert container.canonical_quantity("100u", resource=True) == "1m"
    assert container.canonical_quantity("1.0001", resource=True) == "1001m"
