"""Fault scenarios: one per alert of every rule file, keyed by alert name and system.

Each scenario changes the cluster (through the API, so kubectl shows the fault the way a real
one looks: a new rollout revision, a crash loop, a scaled-down Deployment) and/or the model,
names the mitigation an operator runs to cure it, and can be cleared. ``clear`` resets the
model's part and puts every seed object back to its manifest (image, resources, replicas,
Service selector, ConfigMap data), touching only objects that differ.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from .kube import Kube
from .manifests import BOLT_CONFIG, bolt_config_yaml, manifests
from .model import Backend, SandboxModel, SimFile

Action = Callable[[SandboxModel, Kube], None]

# Shared names resolve to this system when --system is not given (the seed that named it first).
DEFAULT_SYSTEMS = {
    "HighErrorRate": "nimify",
    "HighLatency": "nimify",
    "ServiceDown": "nimify",
    "HighMemoryUsage": "nimify",
}


@dataclass(frozen=True)
class Scenario:
    """What a fault injects, which alert it raises and what cures it."""

    alert: str
    system: str
    injects: str
    cure: str
    inject: Action
    reset: Action

    @property
    def key(self) -> str:
        return f"{self.alert}/{self.system}"


# -- building blocks -----------------------------------------------------------------------------


def _restart(kube: Kube, namespace: str, name: str, kind: str = "Deployment") -> None:
    """What `kubectl rollout restart` does: a new template annotation, hence new pods."""

    def change(obj: dict) -> None:
        template = obj["spec"]["template"].setdefault("metadata", {})
        template.setdefault("annotations", {})["kubectl.kubernetes.io/restartedAt"] = (
            time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + f"-{time.monotonic_ns()}"
        )

    kube.patch(kind, namespace, name, change)


def _set_image(kube: Kube, namespace: str, name: str, image: str, cause: str) -> None:
    def change(obj: dict) -> None:
        obj["metadata"].setdefault("annotations", {})["kubernetes.io/change-cause"] = cause
        obj["spec"]["template"]["spec"]["containers"][0]["image"] = image

    kube.patch("Deployment", namespace, name, change)


def _scale(kube: Kube, namespace: str, name: str, replicas: int) -> None:
    def change(obj: dict) -> None:
        obj["spec"]["replicas"] = replicas

    kube.patch("Deployment", namespace, name, change)


def _bad_rollout(namespace: str, name: str, image: str) -> Action:
    def inject(model: SandboxModel, kube: Kube) -> None:
        model.bad_images.add(image)
        _set_image(kube, namespace, name, image, f"kubectl set image deployment/{name} {image}")

    return inject


def _fault(kind: str, **params: object) -> Action:
    def inject(model: SandboxModel, kube: Kube) -> None:
        model.set_fault(kind, **params)

    return inject


def _reset_fault(*kinds: str) -> Action:
    def reset(model: SandboxModel, kube: Kube) -> None:
        for kind in kinds:
            model.clear_fault(kind)

    return reset


def _nothing(model: SandboxModel, kube: Kube) -> None:
    return None


def _disk_fill(model: SandboxModel, kube: Kube) -> None:
    model.files += [
        SimFile(f"/var/log/nimify/api-2026-10-{day:02d}.log", 5 * 1024**3, 30 - day)
        for day in range(1, 12)
    ]


def _disk_reset(model: SandboxModel, kube: Kube) -> None:
    model.files = [f for f in model.files if "/api-2026-10-" not in f.path]


def _slow_query(model: SandboxModel, kube: Kube) -> None:
    model.backends.append(
        Backend(
            4242,
            "SELECT r.*, m.name FROM inference_requests r JOIN models m ON m.id = r.model_id "
            "ORDER BY r.created_at",
            time.time() - 45,
        )
    )


def _slow_query_reset(model: SandboxModel, kube: Kube) -> None:
    model.backends = [b for b in model.backends if b.state != "active"]


def _redis_small(model: SandboxModel, kube: Kube) -> None:
    model.redis_config["maxmemory"] = "64mb"


def _redis_reset(model: SandboxModel, kube: Kube) -> None:
    model.redis_config["maxmemory"] = str(2 * 1024**3)


def _triton_broken(model: SandboxModel, kube: Kube) -> None:
    model.triton_models["resnet50"] = "UNAVAILABLE"


def _triton_reset(model: SandboxModel, kube: Kube) -> None:
    model.triton_models = dict.fromkeys(model.triton_models, "READY")


def _cutover_to_bad_green(model: SandboxModel, kube: Kube) -> None:
    image = "ghcr.io/api-optimizer/api-optimizer:2.4.0-rc1"
    model.bad_images.add(image)
    _set_image(kube, "api-optimizer", "api-optimizer-green", image, "deploy 2.4.0-rc1 to green")

    def change(obj: dict) -> None:
        obj["spec"]["selector"]["version"] = "green"

    kube.patch("Service", "api-optimizer", "api-optimizer", change)


def _api_optimizer_ttl(model: SandboxModel, kube: Kube) -> None:
    def change(obj: dict) -> None:
        obj.setdefault("data", {})["cache_ttl_seconds"] = "5"

    kube.patch("ConfigMap", "api-optimizer", "api-optimizer-config", change)
    model.api_optimizer_config["cache_ttl_seconds"] = "5"


def _bolt(setting: str, value: str) -> Action:
    """Change bolt-app-config and restart bolt-app so the new pods read it."""

    def inject(model: SandboxModel, kube: Kube) -> None:
        for pod in kube.pods("bolt-logging", {"app": "bolt-app"}):
            model.bolt_settings(pod)  # pin what the running pods read at their start
        values = {**model.bolt_config, setting: value}

        def change(obj: dict) -> None:
            obj.setdefault("data", {})["config.yaml"] = bolt_config_yaml(values)

        kube.patch("ConfigMap", "bolt-logging", "bolt-app-config", change)
        with model.lock:
            model.bolt_config = values
        _restart(kube, "bolt-logging", "bolt-app")

    return inject


def _bolt_cure(setting: str) -> str:
    good = BOLT_CONFIG[setting]
    return (
        "kubectl patch configmap bolt-app-config -n bolt-logging --type merge -p "
        f'\'{{"data":{{"config.yaml":"...{setting}: {good}..."}}}}\' && '
        "kubectl rollout restart deployment/bolt-app -n bolt-logging"
    )


def restore_baseline(model: SandboxModel, kube: Kube) -> None:
    """Put every seed object back to its manifest where an injected fault (or a cure) moved it."""
    for obj in manifests():
        kind, meta = obj["kind"], obj["metadata"]
        current = kube.get(kind, meta.get("namespace", ""), meta["name"])
        if current is None:
            kube.create(obj)
            continue
        if kind in {"Deployment", "StatefulSet"}:
            want = obj["spec"]["template"]["spec"]["containers"]
            have = current["spec"]["template"]["spec"]["containers"]
            fields = ("image", "resources")
            differs = any(
                w.get(f) != h.get(f) for w, h in zip(want, have, strict=False) for f in fields
            )
            if differs or current["spec"].get("replicas") != obj["spec"]["replicas"]:

                def change(
                    new: dict, want: list = want, replicas: int = obj["spec"]["replicas"]
                ) -> None:
                    new["spec"]["replicas"] = replicas
                    for w, h in zip(
                        want, new["spec"]["template"]["spec"]["containers"], strict=False
                    ):
                        h["image"], h["resources"] = w["image"], w["resources"]

                kube.patch(kind, meta["namespace"], meta["name"], change)
        elif kind == "Service" and current["spec"].get("selector") != obj["spec"]["selector"]:

            def set_selector(new: dict, selector: dict = obj["spec"]["selector"]) -> None:
                new["spec"]["selector"] = dict(selector)

            kube.patch(kind, meta["namespace"], meta["name"], set_selector)
        elif kind == "ConfigMap" and current.get("data") != obj["data"]:

            def set_data(new: dict, data: dict = obj["data"]) -> None:
                new["data"] = dict(data)

            kube.patch(kind, meta["namespace"], meta["name"], set_data)
    with model.lock:
        model.bad_images.clear()
        model.bolt_config = dict(BOLT_CONFIG)
        model.api_optimizer_config = {}
    # bolt-app pods started with a faulty configuration keep it until they restart.
    if any(
        model.bolt_settings(p) != BOLT_CONFIG
        for p in kube.pods("bolt-logging", {"app": "bolt-app"})
    ):
        _restart(kube, "bolt-logging", "bolt-app")


def _scenario_list() -> list[Scenario]:
    nimify_bad = "nvcr.io/nimify/nimify-api:1.5.0"
    gateway_bad = "ghcr.io/ai-coding-bench/api-gateway:0.10.0"
    restart_gateway = "kubectl rollout restart deployment/api-gateway -n ai-coding-bench"
    restart_nimify = "kubectl rollout restart deployment/nimify-api -n nimify-system"
    scenarios = [
        Scenario(
            "ServiceLatencyHigh",
            "ai-coding-bench",
            "api-gateway's pods exhaust their upstream connection pool: average latency 1.5 s",
            restart_gateway,
            _fault("gateway-slow"),
            _reset_fault("gateway-slow"),
        ),
        Scenario(
            "ServiceDown",
            "nimify",
            "nimify-api scaled to 0 replicas (no scrape target left)",
            "kubectl scale deployment nimify-api --replicas=3 -n nimify-system",
            lambda m, k: _scale(k, "nimify-system", "nimify-api", 0),
            _nothing,
        ),
        Scenario(
            "HighErrorRate",
            "nimify",
            f"a rollout of {nimify_bad}, which answers 5xx to half the requests (new revision)",
            "kubectl rollout undo deployment/nimify-api -n nimify-system",
            _bad_rollout("nimify-system", "nimify-api", nimify_bad),
            _nothing,
        ),
        Scenario(
            "DatabaseDown",
            "nimify",
            "postgres-0's server process fails (CrashLoopBackOff); the exporter reports pg_up 0",
            "kubectl delete pod postgres-0 -n database",
            _fault("postgres-down"),
            _reset_fault("postgres-down"),
        ),
        Scenario(
            "GPUUnavailable",
            "nimify",
            "the NVIDIA device plugins lose their GPUs: nvidia_gpu_count 0, node capacity 0",
            "kubectl delete pods -n kube-system -l name=nvidia-device-plugin-ds",
            _fault("gpu-lost"),
            _reset_fault("gpu-lost"),
        ),
        Scenario(
            "HighLatency",
            "nimify",
            "traffic to nimify-api rises 15x (500 req/s per replica, capacity 320): "
            "p95 about 2.4 s",
            "kubectl scale deployment nimify-api --replicas=5 -n nimify-system",
            _fault("nimify-surge"),
            _reset_fault("nimify-surge"),
        ),
        Scenario(
            "HighMemoryUsage",
            "nimify",
            "nimify-api's running pods leak memory up to 95% of their limit",
            f"{restart_nimify} (or delete the pod)",
            _fault("memory-leak:nimify-api"),
            _reset_fault("memory-leak:nimify-api"),
        ),
        Scenario(
            "HighDiskUsage",
            "nimify",
            "55 GiB of old logs (/var/log/nimify/api-2026-10-*.log, 19-29 days) on the shared "
            "nimify-data volume: 93% used",
            "kubectl exec deploy/nimify-api -n nimify-system -- "
            'find /var/log -name "*.log" -mtime +7 -delete',
            _disk_fill,
            _disk_reset,
        ),
        Scenario(
            "ModelLoadFailure",
            "nimify",
            "Triton's model resnet50 fails to load (UNAVAILABLE), retried every 2 s",
            "kubectl exec deploy/triton-server -n triton-system -- "
            "curl -X POST localhost:8000/v2/repository/models/resnet50/load",
            _triton_broken,
            _triton_reset,
        ),
        Scenario(
            "PodRestart",
            "nimify",
            "nimify-api needs 2.5 GiB but its limit is 2 GiB: OOMKilled crash loop",
            "kubectl patch deployment nimify-api -n nimify-system -p "
            '\'{"spec":{"template":{"spec":{"containers":[{"name":"nimify-api",'
            '"resources":{"limits":{"memory":"4Gi"}}}]}}}}\'',
            _fault("oom", app="nimify-api", need=2.5 * 1024**3),
            _reset_fault("oom"),
        ),
        Scenario(
            "SlowQueries",
            "nimify",
            "a 45 s old active query (pid 4242) on database nimify",
            'kubectl exec postgres-0 -n database -- psql -U nimify -c "SELECT '
            "pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'active' AND "
            "now() - query_start > interval '30 seconds'\"",
            _slow_query,
            _slow_query_reset,
        ),
        Scenario(
            "CacheHitRateLow",
            "nimify",
            "redis maxmemory set to 64mb: evictions, hit rate 55%",
            "kubectl exec deploy/redis -n nimify-system -- redis-cli CONFIG SET maxmemory 2gb",
            _redis_small,
            _redis_reset,
        ),
        Scenario(
            "HighLatency",
            "api-optimizer",
            "traffic surge to 4000 req/s on 3 stable replicas (capacity 500 each): p95 about 76 ms",
            "kubectl scale deployment api-optimizer --replicas=10 -n api-optimizer",
            _fault("api-optimizer-surge"),
            _reset_fault("api-optimizer-surge"),
        ),
        Scenario(
            "HighErrorRate",
            "api-optimizer",
            "a cut-over of Service api-optimizer to green, which runs a 2.4.0-rc1 image that "
            "answers 5xx",
            "kubectl patch service api-optimizer -n api-optimizer --type=json "
            '-p=\'[{"op": "replace", "path": "/spec/selector/version", "value": "stable"}]\'',
            _cutover_to_bad_green,
            _nothing,
        ),
        Scenario(
            "LowCacheHitRatio",
            "api-optimizer",
            "ConfigMap api-optimizer-config cache_ttl_seconds set to 5: hit ratio 40%",
            "kubectl patch configmap api-optimizer-config -n api-optimizer --type merge "
            '-p \'{"data":{"cache_ttl_seconds":"3600"}}\'',
            _api_optimizer_ttl,
            _nothing,
        ),
        Scenario(
            "HighErrorRate",
            "service-template",
            f"a rollout of {gateway_bad} to api-gateway (ai-coding-bench), which answers 5xx",
            "kubectl rollout undo deployment/api-gateway -n ai-coding-bench",
            _bad_rollout("ai-coding-bench", "api-gateway", gateway_bad),
            _nothing,
        ),
        Scenario(
            "HighLatency",
            "service-template",
            "api-gateway's pods exhaust their upstream connection pool: p95 about 2.4 s "
            "(ServiceLatencyHigh fires too)",
            restart_gateway,
            _fault("gateway-slow"),
            _reset_fault("gateway-slow"),
        ),
        Scenario(
            "ServiceDown",
            "service-template",
            "api-gateway's processes hang: every target answers 503 (up == 0)",
            restart_gateway,
            _fault("gateway-down"),
            _reset_fault("gateway-down"),
        ),
        Scenario(
            "HighMemoryUsage",
            "service-template",
            "api-gateway's running pods leak memory up to 95% of their limit",
            restart_gateway,
            _fault("memory-leak:api-gateway"),
            _reset_fault("memory-leak:api-gateway"),
        ),
    ]
    bolt = (
        ("BoltLoggingLatencyHigh", "sink_mode", "sync", "synchronous sink: p95 200 µs"),
        ("BoltLoggingLatencyWarning", "sink_mode", "sync-batched", "batched sync sink: p95 ~98 µs"),
        ("BoltUnexpectedAllocations", "allocator", "heap", "heap allocator: 50 allocations/s"),
        ("BoltEventPoolExhaustion", "event_pool_size", "102", "event pool of 102: 2 available"),
        ("BoltEventPoolWarning", "event_pool_size", "107", "event pool of 107: 7 available"),
        ("BoltLoggingRateCritical", "log_level", "trace", "trace logging: 800,000 events/s"),
        ("BoltHandlerLatencyHigh", "file_sink_fsync", "true", "fsync per event: p99 5 ms"),
        ("BoltMemoryUsageHigh", "ring_buffer_mb", "768", "768 MB ring buffer: RSS 868 MB"),
    )
    scenarios += [
        Scenario(
            alert,
            "bolt",
            f"bolt-app-config {setting}: {value} and a rollout restart ({what})",
            _bolt_cure(setting),
            _bolt(setting, value),
            _nothing,
        )
        for alert, setting, value, what in bolt
    ]
    return scenarios


SCENARIOS: dict[str, Scenario] = {s.key: s for s in _scenario_list()}


def find(alert: str, system: str | None = None) -> Scenario:
    """The scenario of ``alert`` (for ``system``, or its default system); KeyError if none."""
    if system is None:
        system = DEFAULT_SYSTEMS.get(alert)
        if system is None:
            matches = [s for s in SCENARIOS.values() if s.alert == alert]
            if len(matches) == 1:
                return matches[0]
            raise KeyError(alert)
    return SCENARIOS[f"{alert}/{system}"]
