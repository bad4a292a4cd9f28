"""Pure logic of the Kubernetes modules: client options, errors, rollouts, diagnosis, patches."""

import copy
import datetime
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_container as container
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_diagnose as diagnose
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_proxy as proxy
from ansible_collections.sre.runbooks.plugins.module_utils import _k8s_rollout as rollout
from ansible_collections.sre.runbooks.plugins.module_utils import k8s

UTC = datetime.UTC
NOW = datetime.datetime(2030, 1, 31, 22, 0, 0, tzinfo=UTC)


def deployment(image="nginx:1.27", *, revision="3", paused=False, generation=3, observed=3):
    return {
        "kind": "Deployment",
        "metadata": {
            "name": "web",
            "namespace": "prod",
            "uid": "d-uid",
            "generation": generation,
            "annotations": {rollout.REVISION_ANNOTATION: revision},
        },
        "spec": {
            "replicas": 2,
            "paused": paused,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            },
        },
        "status": {
            "observedGeneration": observed,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
        },
    }


def replica_set(revision, image, created="2030-01-31T21:00:00Z", cause=None):
    annotations = {rollout.REVISION_ANNOTATION: str(revision)}
    if cause:
        annotations[rollout.CHANGE_CAUSE_ANNOTATION] = cause
    return {
        "metadata": {
            "name": f"web-{revision}",
            "annotations": annotations,
            "creationTimestamp": created,
            "ownerReferences": [{"uid": "d-uid"}],
        },
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"name": "nginx", "image": image}]},
            }
        },
    }


# Connection options ---------------------------------------------------------------------------


def test_connection_options_have_kubernetes_core_names_and_env_variables():
    spec = k8s.k8s_argument_spec()
    assert set(spec) == {
        "kubeconfig",
        "context",
        "host",
        "api_key",
        "username",
        "password",
        "validate_certs",
        "ca_cert",
        "client_cert",
        "client_key",
        "proxy",
        "impersonate_user",
        "impersonate_groups",
    }
    assert spec["api_key"]["no_log"] is True
    assert spec["password"]["no_log"] is True
    assert spec["validate_certs"]["fallback"][1] == [
        "K8S_AUTH_VALIDATE_CERTS",
        "K8S_AUTH_VERIFY_SSL",
    ]
    assert spec["kubeconfig"]["fallback"][1] == ["K8S_AUTH_KUBECONFIG"]


def test_impersonate_groups_come_from_a_comma_separated_variable(monkeypatch):
    monkeypatch.setenv("K8S_AUTH_IMPERSONATE_GROUPS", "sre,oncall,")
    spec = k8s.k8s_argument_spec()["impersonate_groups"]
    function, names = spec["fallback"]
    assert function(*names) == ["sre", "oncall"]


def test_a_kubeconfig_dict_configures_host_and_token_without_global_state():
    kubeconfig = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "secret-token"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    client = k8s.client_from_options({"kubeconfig": kubeconfig})
    assert client.configuration.host == "http://127.0.0.1:1"
    assert client._headers("application/json", None)["Authorization"] == "Bearer secret-token"
    assert k8s.client_from_options({"kubeconfig": copy.deepcopy(kubeconfig)}) is client


def test_explicit_host_and_api_key_need_no_kubeconfig():
    client = k8s.client_from_options({"host": "https://10.0.0.1:6443/", "api_key": "abc"})
    assert client.configuration.host == "https://10.0.0.1:6443"
    assert client._headers("*/*", None)["Authorization"] == "Bearer abc"


def test_error_message_names_action_object_status_reason_and_message():
    error = k8s.K8sError(
        "patch", k8s.target_text("Deployment", "prod", "web"), 422, "Invalid", "spec: bad"
    )
    assert str(error) == "Failed to patch Deployment prod/web: 422 Invalid: spec: bad"
    body = json.dumps({"kind": "Status", "reason": "NotFound", "message": "not there"})
    assert k8s._status_fields(body.encode()) == ("NotFound", "not there")


def test_label_selector_renders_match_labels_and_expressions():
    selector = {
        "matchLabels": {"app": "web", "tier": "api"},
        "matchExpressions": [
            {"key": "env", "operator": "In", "values": ["prod", "stage"]},
            {"key": "canary", "operator": "DoesNotExist"},
        ],
    }
    assert k8s.label_selector(selector) == "app=web,tier=api,env in (prod,stage),!canary"


def test_resource_paths():
    assert k8s.resource_path("Deployment", "prod", "web") == (
        "/apis/apps/v1/namespaces/prod/deployments/web"
    )
    assert k8s.resource_path("Pod", "prod", "p", "log") == "/api/v1/namespaces/prod/pods/p/log"
    assert k8s.resource_path("PodMetrics", "prod") == (
        "/apis/metrics.k8s.io/v1beta1/namespaces/prod/pods"
    )


# Rollouts -------------------------------------------------------------------------------------


def test_status_verdicts_follow_kubectl():
    assert rollout.rollout_status(deployment()) == (
        True,
        'deployment "web" successfully rolled out',
    )
    stale = deployment(generation=4, observed=3)
    assert (
        rollout.rollout_status(stale)[1] == "Waiting for deployment spec update to be observed..."
    )
    halfway = deployment(paused=True)
    halfway["status"]["updatedReplicas"] = 1
    done, message = rollout.rollout_status(halfway)
    assert not done
    assert message == (
        'Waiting for deployment "web" rollout to finish: 1 out of 2 new replicas have been '
        "updated... (the rollout is paused)"
    )
    deadline = deployment()
    deadline["status"]["conditions"] = [
        {"type": "Progressing", "reason": "ProgressDeadlineExceeded"}
    ]
    assert rollout.rollout_status(deadline) == (
        False,
        'deployment "web" exceeded its progress deadline',
    )


def test_statefulset_and_daemonset_status():
    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "generation": 2},
        "spec": {"replicas": 2},
        "status": {
            "observedGeneration": 2,
            "readyReplicas": 2,
            "currentRevision": "db-1",
            "updateRevision": "db-2",
            "updatedReplicas": 1,
        },
    }
    assert not rollout.rollout_status(sts)[0]
    sts["status"]["currentRevision"] = "db-2"
    assert rollout.rollout_status(sts)[0]
    ds = {
        "kind": "DaemonSet",
        "metadata": {"name": "agent", "generation": 1},
        "status": {
            "observedGeneration": 1,
            "desiredNumberScheduled": 3,
            "updatedNumberScheduled": 3,
            "numberAvailable": 2,
        },
    }
    assert rollout.rollout_status(ds) == (
        False,
        'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...',
    )


def test_wait_for_rollout_times_out_with_the_last_message():
    class Client:
        def get(self, *args, **kwargs):
            return deployment(generation=5, observed=4)

    ticks = iter([0.0, 0.0, 1.0, 2.5])
    with pytest.raises(k8s.K8sError) as raised:
        rollout.wait_for_rollout(
            Client(),
            "Deployment",
            "prod",
            "web",
            2,
            sleep=lambda s: None,
            clock=lambda: next(ticks),
        )
    assert str(raised.value) == (
        "Failed to wait for the rollout of Deployment prod/web: timed out after 2s: "
        "Waiting for deployment spec update to be observed..."
    )


def test_history_reads_replica_sets_in_revision_order():
    items = [
        replica_set(3, "nginx:1.27", "2030-01-31T21:50:00Z", "set image"),
        replica_set(1, "nginx:1.25"),
    ]
    history = rollout.revisions(deployment(), items)
    view = rollout.history_view(history, NOW)
    assert [(r["revision"], r["images"], r["change_cause"]) for r in view] == [
        (1, ["nginx:1.25"], None),
        (3, ["nginx:1.27"], "set image"),
    ]
    assert view[-1]["age_seconds"] == 600
    assert "pod-template-hash" not in history[0]["template"]["metadata"]["labels"]


def test_undo_copies_the_previous_template_without_hash_like_kubectl():
    history = rollout.revisions(
        deployment(), [replica_set(1, "nginx:1.25"), replica_set(3, "nginx:1.27")]
    )
    target, patch, patch_type = rollout.plan_undo(deployment(), history)
    assert (target, patch_type) == (1, "json")
    assert patch[0]["path"] == "/spec/template"
    assert patch[0]["value"]["spec"]["containers"][0]["image"] == "nginx:1.25"
    assert "pod-template-hash" not in patch[0]["value"]["metadata"]["labels"]


def test_undo_to_the_running_revision_changes_nothing_and_paused_is_refused():
    history = rollout.revisions(
        deployment(), [replica_set(1, "nginx:1.25"), replica_set(3, "nginx:1.27")]
    )
    assert rollout.plan_undo(deployment(), history, 3) == (3, None, None)
    with pytest.raises(ValueError, match="unable to find specified revision 7"):
        rollout.plan_undo(deployment(), history, 7)
    with pytest.raises(ValueError, match="paused deployment"):
        rollout.plan_undo(deployment(paused=True), history)


def test_statefulset_undo_patches_the_controller_revision_template():
    sts = {
        "kind": "StatefulSet",
        "metadata": {"name": "db", "uid": "s-uid"},
        "spec": {"template": {"spec": {"containers": [{"name": "pg", "image": "pg:16"}]}}},
        "status": {"updateRevision": "db-2"},
    }
    revisions = [
        {
            "metadata": {"name": f"db-{n}", "creationTimestamp": "2030-01-31T21:00:00Z"},
            "revision": n,
            "data": {
                "spec": {
                    "template": {
                        "spec": {"containers": [{"name": "pg", "image": image}]},
                        "$patch": "replace",
                    }
                }
            },
        }
        for n, image in ((1, "pg:15"), (2, "pg:16"))
    ]
    history = rollout.revisions(sts, revisions)
    assert rollout.current_revision(sts, history) == 2
    target, patch, patch_type = rollout.plan_undo(sts, history)
    assert (target, patch_type) == (1, "strategic")
    assert patch["spec"]["template"]["$patch"] == "replace"
    assert patch["spec"]["template"]["spec"]["containers"][0]["image"] == "pg:15"


def test_plan_action_pause_resume_and_restart():
    params = {"action": "pause"}
    patch, _type, notes = rollout.plan_action(deployment(), [], params, "now")
    assert patch == {"spec": {"paused": True}}
    patch, _type, notes = rollout.plan_action(deployment(paused=True), [], params, "now")
    assert patch is None
    assert notes["msg"] == "already paused"
    patch, _type, _notes = rollout.plan_action(deployment(), [], {"action": "restart"}, "T")
    annotations = patch["spec"]["template"]["metadata"]["annotations"]
    assert annotations == {"kubectl.kubernetes.io/restartedAt": "T"}
    with pytest.raises(ValueError, match="only supported for Deployments"):
        rollout.plan_action({"kind": "StatefulSet", "spec": {}}, [], params, "now")


# Diagnosis ------------------------------------------------------------------------------------

CRASHING_POD = {
    "metadata": {"name": "nimify-api-7d9f-abcde"},
    "spec": {
        "nodeName": "node-a",
        "containers": [
            {
                "name": "api",
                "image": "nimify/api:2.1",
                "resources": {"requests": {"memory": "512Mi"}, "limits": {"memory": "1Gi"}},
            },
            {"name": "sidecar", "image": "envoy:1.30"},
        ],
    },
    "status": {
        "phase": "Running",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "api",
                "ready": False,
                "restartCount": 7,
                "state": {
                    "waiting": {
                        "reason": "CrashLoopBackOff",
                        "message": "back-off 5m0s restarting failed container=api",
                    }
                },
                "lastState": {
                    "terminated": {
                        "reason": "OOMKilled",
                        "exitCode": 137,
                        "startedAt": "2030-01-31T21:58:00Z",
                        "finishedAt": "2030-01-31T21:59:00Z",
                    }
                },
            },
            {
                "name": "sidecar",
                "ready": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": "2030-01-31T20:00:00Z"}},
            },
        ],
    },
}


def test_crash_looping_oom_killed_pod_is_parsed():
    view = diagnose.pod_view(CRASHING_POD)
    assert view["ready"] is False
    assert view["restarts"] == 7
    api, sidecar = view["containers"]
    assert api["waiting_reason"] == "CrashLoopBackOff"
    assert api["oom_killed"] is True
    assert api["last_state"] == {
        "state": "terminated",
        "reason": "OOMKilled",
        "exit_code": 137,
        "started_at": "2030-01-31T21:58:00Z",
        "finished_at": "2030-01-31T21:59:00Z",
    }
    assert api["limits"] == {"memory": "1Gi"}
    assert sidecar["state"]["state"] == "running"
    summary = diagnose.summarize([view])
    assert summary["crash_looping"] == ["nimify-api-7d9f-abcde"]
    assert summary["oom_killed"] == ["nimify-api-7d9f-abcde"]
    assert summary["waiting_reasons"] == {"CrashLoopBackOff": 1}


def test_events_are_filtered_to_the_workload_and_sorted_by_time():
    events = [
        {
            "metadata": {},
            "involvedObject": {"kind": "Pod", "name": "p1"},
            "lastTimestamp": "2030-01-31T21:59:00Z",
            "reason": "BackOff",
            "type": "Warning",
        },
        {
            "metadata": {},
            "involvedObject": {"kind": "Pod", "name": "other"},
            "lastTimestamp": "2030-01-31T21:00:00Z",
            "reason": "Started",
        },
        {
            "metadata": {},
            "involvedObject": {"kind": "Deployment", "name": "web"},
            "eventTime": "2030-01-31T21:30:00.000000Z",
            "reason": "ScalingReplicaSet",
        },
    ]
    views = diagnose.event_views(events, [("Pod", "p1"), ("Deployment", "web")])
    assert [v["reason"] for v in views] == ["ScalingReplicaSet", "BackOff"]


def test_log_patterns_are_counted_per_line():
    lines = ["ERROR boom", "WARN slow", "ERROR OOM soon", "ok"]
    assert diagnose.count_patterns(lines, ["ERROR", "WARN", "OOM"]) == {
        "ERROR": 2,
        "WARN": 1,
        "OOM": 1,
    }


def test_a_missing_metrics_api_is_reported_not_fatal():
    class Done:
        def __init__(self, value):
            self.value = value

        def result(self):
            return self.value

    missing = []
    assert diagnose._metrics_result(Done(None), missing) is None
    assert missing == ["metrics: the metrics.k8s.io API is not served (404)"]


# Container patches ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"), [("2Gi", "2048Mi"), ("500m", "0.5"), ("1", "1000m"), ("1e3", "1k")]
)
def test_equal_quantities(a, b):
    assert container.same_quantity(a, b)


def test_invalid_quantity_is_refused():
    with pytest.raises(ValueError, match="invalid quantity"):
        container.parse_quantity("two gigs")


def test_plan_container_patches_only_what_differs():
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0].update(
        resources={"limits": {"memory": "2Gi"}},
        env=[{"name": "A", "value": "1"}, {"name": "OLD", "value": "x"}],
        readinessProbe={"periodSeconds": 10, "httpGet": {"path": "/", "port": 80}},
    )
    params = {
        "container": "nginx",
        "resources": {"limits": {"memory": "2048Mi", "cpu": "1"}},
        "env": [{"name": "A", "value": 1}, {"name": "B", "value": "2"}],
        "env_remove": ["OLD", "NEVER"],
        "readiness_probe": {"periodSeconds": 10, "httpGet": {"path": "/healthz"}},
        "annotations": {"note": "x"},
    }
    patch = container.plan_container(obj, params)
    change = patch["spec"]["template"]["spec"]["containers"][0]
    assert change["resources"] == {"limits": {"cpu": "1"}}
    assert change["env"] == [{"name": "B", "value": "2"}, {"name": "OLD", "$patch": "delete"}]
    assert change["readinessProbe"] == {"httpGet": {"path": "/healthz"}}
    assert patch["spec"]["template"]["metadata"] == {"annotations": {"note": "x"}}


def test_plan_container_returns_none_when_all_is_as_asked():
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "500m"}}
    params = {"container": "nginx", "resources": {"requests": {"cpu": "0.5"}}}
    assert container.plan_container(obj, params) is None


def test_unknown_container_is_named_with_the_existing_ones():
    with pytest.raises(ValueError, match=r"no container 'app' .*containers: nginx"):
        container.plan_container(deployment(), {"container": "app"})


# Proxy requests -------------------------------------------------------------------------------


def test_proxy_paths():
    assert proxy.proxy_path("Service", "ns", "api", port="http", scheme="http", path="/health") == (
        "/api/v1/namespaces/ns/services/api:http/proxy/health"
    )
    assert proxy.proxy_path("Pod", "ns", "p", port=None, scheme="https", path="debug/pprof/") == (
        "/api/v1/namespaces/ns/pods/https:p/proxy/debug/pprof/"
    )


def test_changed_semantics_of_methods():
    assert proxy.is_change("GET", None) is False
    assert proxy.is_change("HEAD", True) is False
    assert proxy.is_change("POST", None) is True
    assert proxy.is_change("POST", False) is False


def test_bodies_are_decoded_as_json_when_they_are_json():
    assert proxy.decode_body(b'{"status": "ok"}', "application/json") == (
        '{"status": "ok"}',
        {"status": "ok"},
    )
    assert proxy.decode_body(b"fine", "text/plain") == ("fine", None)


def test_secrets_of_an_inline_kubeconfig_are_found_for_no_log():
    kubeconfig = {
        "users": [
            {"name": "u", "user": {"token": "t0k3n", "client-key-data": "S0VZ"}},
            {"name": "v", "user": {"auth-provider": {"config": {"refresh-token": "r3fr3sh"}}}},
        ],
        "clusters": [{"name": "c", "cluster": {"server": "https://k"}}],
    }
    assert k8s.kubeconfig_secrets(kubeconfig) == {"t0k3n", "S0VZ", "r3fr3sh"}


def test_a_malformed_kubeconfig_fails_with_a_message_not_a_traceback(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nclusters: [unclosed\n")
    with pytest.raises(k8s.K8sError, match="Failed to load the Kubernetes configuration"):
        k8s.client_from_options({"kubeconfig": str(kubeconfig)})


def test_a_failed_read_back_after_a_restart_still_reports_the_change():
    class Client:
        def __init__(self):
            self.reads = 0
            self.patches = []

        def get(self, *args, **kwargs):
            self.reads += 1
            if self.reads > 1:
                raise k8s.K8sError("read", "Deployment prod/web", 503, "ServiceUnavailable")
            return deployment(generation=1, observed=1)

        def list(self, *args, **kwargs):
            return []

        def patch(self, *args, **kwargs):
            self.patches.append(args)
            return deployment(generation=2, observed=1)

    client = Client()
    params = {"kind": "Deployment", "namespace": "prod", "name": "web", "action": "restart"}
    with pytest.raises(k8s.K8sError) as failure:
        rollout.run_rollout(client, params)
    assert len(client.patches) == 1
    assert failure.value.result["changed"] is True


def test_the_invocation_log_line_never_carries_an_inline_kubeconfig_token(monkeypatch):
    logged = []
    monkeypatch.setattr(
        basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg)
    )
    kubeconfig = {
        "apiVersion": "v1",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t0k3n-in-line"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    }
    with patch_module_args({"kubeconfig": kubeconfig, "name": "web", "namespace": "prod"}):
        module = k8s.K8sModule(argument_spec={"name": {}, "namespace": {}})
    assert logged, "AnsibleModule logged no invocation"
    assert all("t0k3n-in-line" not in line for line in logged), logged
    assert "t0k3n-in-line" in module.no_log_values
