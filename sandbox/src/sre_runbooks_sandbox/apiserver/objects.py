"""What the API server adds to objects: identity, timestamps, defaults, and name validation.

Defaults are the ones a real server fills in and that clients read back (kubectl describe,
rollout history and the kubernetes.core modules compare against them), as seen in the recorded
objects in tests/sandbox/reference/.
"""

from __future__ import annotations

import base64
import random
import re
import threading
import uuid
from datetime import UTC, datetime

from .errors import RFC1035_LABEL, RFC1123_LABEL, RFC1123_SUBDOMAIN, field_value, invalid

# kubernetes' rand.String alphabet: no vowels (no words) and no look-alike characters.
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class Ids:
    """Seeded source of UIDs and name suffixes, so a sandbox run is reproducible."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)  # noqa: S311  (names and UIDs, not secrets)
        self._lock = threading.Lock()

    def uid(self) -> str:
        """A random (version 4) UUID string."""
        with self._lock:
            return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def suffix(self, length: int = 5) -> str:
        """The random part generateName appends."""
        with self._lock:
            return "".join(self._rng.choice(SAFE_ALPHABET) for _ in range(length))

    def hex(self, length: int) -> str:
        """Random hex digits, for container IDs and event name suffixes."""
        with self._lock:
            return f"{self._rng.getrandbits(length * 4):0{length}x}"


def now() -> str:
    """A metav1.Time: RFC 3339 in seconds."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_micro() -> str:
    """A metav1.MicroTime, as in Event.eventTime."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fnv32a(data: bytes) -> int:
    """32-bit FNV-1a, the hash kube-controller-manager uses for template hashes."""
    value = 0x811C9DC5
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(value: int) -> str:
    """Render a hash in the safe alphabet, like rand.SafeEncodeString(fmt.Sprint(hash))."""
    return "".join(SAFE_ALPHABET[ord(c) % len(SAFE_ALPHABET)] for c in str(value))


def validate_name(kind: str, name: str, group: str = "") -> None:
    """Reject names the real server rejects, with its exact message."""
    if kind in {"Namespace"}:
        pattern, text, limit = _LABEL, RFC1123_LABEL, 63
    elif kind == "Service":
        pattern, text, limit = _DNS1035, RFC1035_LABEL, 63
    else:
        pattern, text, limit = _SUBDOMAIN, RFC1123_SUBDOMAIN, 253
    problems = []
    if len(name) > limit:
        problems.append(
            ("metadata.name", "FieldValueTooLong", f"Too long: may not be more than {limit} bytes")
        )
    if not pattern.match(name):
        problems.append(
            ("metadata.name", "FieldValueInvalid", f"Invalid value: {field_value(name)}: {text}")
        )
    if problems:
        raise invalid(kind, name, problems, group)


def _default_container(container: dict) -> None:
    image = container.get("image", "")
    tag = image.rsplit("/", 1)[-1]
    latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
    container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
    container.setdefault("resources", {})
    container.setdefault("terminationMessagePath", "/dev/termination-log")
    container.setdefault("terminationMessagePolicy", "File")
    for port in container.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in container.get("env") or []:
        if "valueFrom" in env and "fieldRef" in env["valueFrom"]:
            env["valueFrom"]["fieldRef"].setdefault("apiVersion", "v1")
    for probe in (
        container.get(key) for key in ("livenessProbe", "readinessProbe", "startupProbe")
    ):
        if isinstance(probe, dict):
            _default_probe(probe)
    for hook in ((container.get("lifecycle") or {}).get(k) for k in ("postStart", "preStop")):
        if isinstance(hook, dict) and isinstance(hook.get("httpGet"), dict):
            _default_http_get(hook["httpGet"])


# SetDefaults_Probe: a field left out or zero gets these.
_PROBE_DEFAULTS = {
    "timeoutSeconds": 1,
    "periodSeconds": 10,
    "successThreshold": 1,
    "failureThreshold": 3,
}


def _default_probe(probe: dict) -> None:
    for key, value in _PROBE_DEFAULTS.items():
        if not probe.get(key):
            probe[key] = value
    if isinstance(probe.get("httpGet"), dict):
        _default_http_get(probe["httpGet"])
    if isinstance(probe.get("grpc"), dict):
        probe["grpc"].setdefault("service", "")  # +default=""


def _default_http_get(action: dict) -> None:
    """SetDefaults_HTTPGetAction."""
    if not action.get("path"):
        action["path"] = "/"
    if not action.get("scheme"):
        action["scheme"] = "HTTP"


def default_pod_spec(spec: dict, *, pod: bool) -> None:
    """Fill in a PodSpec as the server does for pods (pod=True) and pod templates."""
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            _default_container(container)
            resources = container["resources"]
            if pod and resources.get("limits"):
                # Pods (not templates) get requests equal to limits where none were given.
                requests = resources.setdefault("requests", {})
                for name, value in resources["limits"].items():
                    requests.setdefault(name, value)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    if pod:
        spec.setdefault("enableServiceLinks", True)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        spec.setdefault("priority", 0)
        spec.setdefault("serviceAccountName", spec.get("serviceAccount", "default"))
        spec.setdefault("serviceAccount", spec["serviceAccountName"])
        tolerations = spec.setdefault("tolerations", [])
        for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
            if not any(t.get("key") == key for t in tolerations):
                tolerations.append(
                    {
                        "effect": "NoExecute",
                        "key": key,
                        "operator": "Exists",
                        "tolerationSeconds": 300,
                    }
                )


def mount_service_account_token(spec: dict, suffix: str) -> None:
    """Add the projected `kube-api-access-*` volume, as the ServiceAccount admission plugin does."""
    if spec.get("automountServiceAccountToken") is False:
        return
    if any(v.get("name", "").startswith("kube-api-access-") for v in spec.get("volumes") or []):
        return
    name = f"kube-api-access-{suffix}"
    spec.setdefault("volumes", []).append(
        {
            "name": name,
            "projected": {
                "defaultMode": 420,
                "sources": [
                    {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                    {
                        "configMap": {
                            "items": [{"key": "ca.crt", "path": "ca.crt"}],
                            "name": "kube-root-ca.crt",
                        }
                    },
                    {
                        "downwardAPI": {
                            "items": [
                                {
                                    "fieldRef": {
                                        "apiVersion": "v1",
                                        "fieldPath": "metadata.namespace",
                                    },
                                    "path": "namespace",
                                }
                            ]
                        }
                    },
                ],
            },
        }
    )
    mount = {
        "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
        "name": name,
        "readOnly": True,
    }
    for key in ("initContainers", "containers"):
        for container in spec.get(key) or []:
            container.setdefault("volumeMounts", []).append(dict(mount))


def _qos_class(spec: dict) -> str:
    containers = spec.get("containers") or []
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    guaranteed = all(
        r.get("limits", {}).get(res)
        and r.get("requests", r.get("limits", {})).get(res) == r["limits"][res]
        for r in resources
        for res in ("cpu", "memory")
    )
    return "Guaranteed" if guaranteed else "Burstable"


def _deployment(obj: dict, spec: dict) -> None:
    spec.setdefault("replicas", 1)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("strategy", {})
    strategy.setdefault("type", "RollingUpdate")
    if strategy["type"] == "RollingUpdate":
        rolling = strategy.setdefault("rollingUpdate", {})
        rolling.setdefault("maxSurge", "25%")
        rolling.setdefault("maxUnavailable", "25%")


def _statefulset(obj: dict, spec: dict) -> None:
    spec.setdefault("replicas", 1)
    spec.setdefault("podManagementPolicy", "OrderedReady")
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault(
        "persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"}
    )
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"partition": 0})


def _daemonset(obj: dict, spec: dict) -> None:
    spec.setdefault("revisionHistoryLimit", 10)
    strategy = spec.setdefault("updateStrategy", {"type": "RollingUpdate"})
    if strategy.get("type") == "RollingUpdate":
        strategy.setdefault("rollingUpdate", {"maxSurge": 0, "maxUnavailable": 1})


def _pod(obj: dict, spec: dict) -> None:
    default_pod_spec(spec, pod=True)
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Pending")
    status.setdefault("qosClass", _qos_class(spec))


def _namespace(obj: dict, spec: dict) -> None:
    spec.setdefault("finalizers", ["kubernetes"])
    obj.setdefault("status", {}).setdefault("phase", "Active")
    labels = obj["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = obj["metadata"]["name"]


def _secret(obj: dict, spec: dict) -> None:
    obj.setdefault("type", "Opaque")
    string_data = obj.pop("stringData", None) or {}
    data = obj.setdefault("data", {}) if string_data else obj.get("data")
    for key, value in string_data.items():
        data[key] = base64.b64encode(value.encode()).decode()


def _service(obj: dict, spec: dict) -> None:
    _default_service(spec)
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _pvc(obj: dict, spec: dict) -> None:
    spec.setdefault("volumeMode", "Filesystem")
    obj.setdefault("status", {}).setdefault("phase", "Pending")


def _storageclass(obj: dict, spec: dict) -> None:
    obj.setdefault("reclaimPolicy", "Delete")
    obj.setdefault("volumeBindingMode", "Immediate")


def _networkpolicy(obj: dict, spec: dict) -> None:
    spec.setdefault("policyTypes", ["Ingress", *(["Egress"] if "egress" in spec else [])])


def _event(obj: dict, spec: dict) -> None:
    # Events written through the core API carry an explicit null eventTime.
    obj.setdefault("eventTime", None)


_DEFAULTERS = {
    "Deployment": _deployment,
    "ReplicaSet": lambda obj, spec: spec.setdefault("replicas", 1),
    "StatefulSet": _statefulset,
    "DaemonSet": _daemonset,
    "Pod": _pod,
    "Service": _service,
    "Namespace": _namespace,
    "Secret": _secret,
    "PersistentVolumeClaim": _pvc,
    "StorageClass": _storageclass,
    "NetworkPolicy": _networkpolicy,
    "Event": _event,
}


def apply_defaults(kind: str, obj: dict) -> None:
    """Fill in the defaults a real server adds on create and update."""
    spec = obj.setdefault("spec", {}) if kind not in _NO_SPEC else {}
    if kind in _DEFAULTERS:
        _DEFAULTERS[kind](obj, spec)
    if isinstance(spec.get("template"), dict):
        default_pod_spec(spec["template"].setdefault("spec", {}), pod=False)


# Kinds without a `spec` at all.
_NO_SPEC = frozenset(
    {"ConfigMap", "Secret", "Endpoints", "Event", "StorageClass", "ControllerRevision"}
)


def _default_service(spec: dict) -> None:
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for port in spec.get("ports") or []:
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))


def allocate_cluster_ip(spec: dict, index: int) -> None:
    """Give a Service a cluster IP from 10.96.0.0/12, as the service IP allocator does."""
    if spec.get("type") == "ExternalName" or spec.get("clusterIP") == "None":
        if spec.get("clusterIP") == "None":
            spec["clusterIPs"] = ["None"]
        return
    if not spec.get("clusterIP"):
        spec["clusterIP"] = f"10.96.{index // 250}.{index % 250 + 1}"
    spec["clusterIPs"] = [spec["clusterIP"]]
    if spec.get("type") in {"NodePort", "LoadBalancer"}:
        for n, port in enumerate(spec.get("ports") or []):
            port.setdefault("nodePort", 30000 + (index * 7 + n) % 2768)
