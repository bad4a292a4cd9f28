"""Prometheus metrics of the simulated systems, derived from the cluster state and the model.

Every scrape reads the cluster afresh, so kubectl changes show at the next scrape (1 s). Each
application job is discovered per pod (``/sd/<job>``, Prometheus ``http_sd_configs``), as
Kubernetes service discovery would: a pod whose process is down answers 503 (``up`` is 0), and
a workload scaled to 0 has no targets (``absent(up)``). Node and cluster exporters
(kube-state-metrics, cAdvisor, node-exporter, the GPU exporter) are one target each.

Counters grow by rate x elapsed time between scrapes and start at 0, so ``increase()`` sees
their first increment (prometheus/README.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from .kube import Kube
from .manifests import MIB
from .model import SandboxModel, parse_quantity

HTTP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BOLT_BUCKETS = (0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025)
HANDLER_BUCKETS = (0.0001, 0.0005, 0.001, 0.005, 0.01)


@dataclass(frozen=True)
class AppJob:
    """A scrape job discovered per pod: the pods of ``namespace`` with ``labels``."""

    job: str
    namespace: str
    labels: tuple[tuple[str, str], ...]
    service: str


APP_JOBS = {
    j.job: j
    for j in (
        AppJob("nimify-api", "nimify-system", (("app", "nimify-api"),), "nimify-api"),
        AppJob("redis", "nimify-system", (("app", "redis"),), "redis"),
        AppJob("triton-server", "triton-system", (("app", "triton-server"),), "triton-server"),
        AppJob("postgres", "database", (("app", "postgres"),), "postgres"),
        AppJob("api-optimizer", "api-optimizer", (), "api-optimizer"),
        AppJob("api-gateway", "ai-coding-bench", (("app", "api-gateway"),), "api-gateway"),
        AppJob("bolt-app", "bolt-logging", (("app", "bolt-app"),), "bolt-app-service"),
    )
}
INFRA_JOBS = ("kube-state-metrics", "cadvisor", "node-exporter", "nvidia-gpu-exporter")


def _labels(**labels: object) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
    return "{" + inner + "}"


def _fmt(value: float) -> str:
    return repr(float(value)) if value != int(value) else f"{int(value)}"


class Exporter:
    """Renders the exposition text of one job (or one pod of an application job)."""

    def __init__(self, model: SandboxModel, kube: Kube) -> None:
        self.model = model
        self.kube = kube
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, ...], tuple[float, float]] = {}

    # -- counters ----------------------------------------------------------------------------

    def counter(self, key: tuple[str, ...], rate: float) -> float:
        """Advance counter ``key`` by ``rate`` per second since its last reading."""
        now = time.monotonic()
        with self._lock:
            value, last = self._counters.get(key, (0.0, now))
            value += max(rate, 0.0) * (now - last)
            self._counters[key] = (value, now)
            return value

    # -- discovery ---------------------------------------------------------------------------

    def job_pods(self, job: AppJob) -> list[dict]:
        """The pods behind a job: Running pods the Service (or the app label) selects."""
        if job.job == "api-optimizer":
            service = self.kube.get("Service", job.namespace, "api-optimizer") or {}
            selector = (service.get("spec") or {}).get("selector") or {}
            pods = self.kube.pods(job.namespace, dict(selector)) if selector else []
        else:
            pods = self.kube.pods(job.namespace, dict(job.labels))
        return [p for p in pods if p.get("status", {}).get("phase") == "Running"]

    def service_discovery(self, job_name: str, address: str) -> list[dict]:
        """``http_sd_configs`` answer: one target group per pod of the job."""
        job = APP_JOBS[job_name]
        return [
            {
                "targets": [address],
                "labels": {
                    "__metrics_path__": f"/metrics/{job.job}/{p['metadata']['name']}",
                    "namespace": job.namespace,
                    "pod": p["metadata"]["name"],
                    "service": job.service,
                },
            }
            for p in self.job_pods(job)
        ]

    # -- application jobs --------------------------------------------------------------------

    def pod_metrics(self, job_name: str, pod_name: str) -> tuple[int, str]:
        """(HTTP status, exposition) for one pod target of an application job."""
        job = APP_JOBS.get(job_name)
        if job is None:
            return 404, "unknown job\n"
        pods = self.job_pods(job)
        pod = next((p for p in pods if p["metadata"]["name"] == pod_name), None)
        if pod is None:
            return 404, "no such pod\n"
        with self.model.lock:
            if self.model.pod_down(pod):
                return 503, "service unavailable\n"
            ready = [p for p in pods if not self.model.pod_down(p)]
            render = getattr(self, "_" + job.job.replace("-", "_"))
            lines: list[str] = render(pod, max(len(ready), 1))
        return 200, "\n".join(lines) + "\n"

    def _http(
        self, pod: dict, key: str, rate: float, latency: float, error_ratio: float
    ) -> list[str]:
        """http_requests_total and the latency histogram of one pod (one latency per pod)."""
        uid = pod["metadata"]["uid"]
        lines = []
        for status, share in (("200", 1 - error_ratio), ("500", error_ratio)):
            value = self.counter((uid, key, "req", status), rate * share)
            lines.append(f"http_requests_total{_labels(status=status)} {_fmt(value)}")
        for le in HTTP_BUCKETS:
            value = self.counter((uid, key, "le", str(le)), rate if latency <= le else 0)
            lines.append(f"http_request_duration_seconds_bucket{_labels(le=le)} {_fmt(value)}")
        count = self.counter((uid, key, "count"), rate)
        lines += [
            f'http_request_duration_seconds_bucket{{le="+Inf"}} {_fmt(count)}',
            f"http_request_duration_seconds_count {_fmt(count)}",
            "http_request_duration_seconds_sum "
            + _fmt(self.counter((uid, key, "sum"), rate * latency)),
        ]
        return lines

    def _bad(self, pod: dict) -> bool:
        return any(self.model.is_bad_image(c.get("image", "")) for c in pod["spec"]["containers"])

    def _nimify_api(self, pod: dict, ready: int) -> list[str]:
        per_pod = self.model.nimify_traffic() / ready
        # Capacity of one replica: 320 requests/s; beyond it requests queue for seconds.
        latency = 0.12 if per_pod <= 320 else 1.5
        return self._http(pod, "nimify", per_pod, latency, 0.5 if self._bad(pod) else 0.0)

    def _api_optimizer(self, pod: dict, ready: int) -> list[str]:
        surge = self.model.fault("api-optimizer-surge")
        per_pod = (4000.0 if surge else 200.0) / ready
        # Capacity of one replica: 500 requests/s; beyond it latency grows with the cube.
        latency = 0.004 if per_pod <= 500 else 0.004 * (per_pod / 500) ** 3
        lines = self._http(pod, "api", per_pod, latency, 0.5 if self._bad(pod) else 0.0)
        ttl = float(self.model.api_optimizer_config.get("cache_ttl_seconds", "3600") or 0)
        ratio = 0.85 if ttl >= 60 else 0.4
        uid = pod["metadata"]["uid"]
        hits = self.counter((uid, "cache-hit"), per_pod * ratio)
        misses = self.counter((uid, "cache-miss"), per_pod * (1 - ratio))
        return [
            *lines,
            f"api_optimizer_cache_hits_total {_fmt(hits)}",
            f"api_optimizer_cache_misses_total {_fmt(misses)}",
        ]

    def _api_gateway(self, pod: dict, ready: int) -> list[str]:
        latency = 1.5 if self.model.stale("gateway-slow", pod) else 0.2
        return self._http(pod, "gw", 50.0 / ready, latency, 0.5 if self._bad(pod) else 0.0)

    def _redis(self, pod: dict, ready: int) -> list[str]:
        rate = self.model.redis_hit_rate()
        uid = pod["metadata"]["uid"]
        return [
            f"redis_keyspace_hits_total {_fmt(self.counter((uid, 'hits'), 1000 * rate))}",
            f"redis_keyspace_misses_total {_fmt(self.counter((uid, 'miss'), 1000 * (1 - rate)))}",
            "redis_up 1",
        ]

    def _triton_server(self, pod: dict, ready: int) -> list[str]:
        uid = pod["metadata"]["uid"]
        lines = []
        for name, state in self.model.triton_models.items():
            # Triton's repository poller retries a failing model every two seconds.
            value = self.counter((uid, "fail", name), 0.5 if state == "UNAVAILABLE" else 0.0)
            lines.append(f"triton_model_load_failures_total{_labels(model=name)} {_fmt(value)}")
        return lines

    def _postgres(self, pod: dict, ready: int) -> list[str]:
        up = 0 if self.model.stale("postgres-down", pod) else 1
        lines = [f"pg_up {up}"]
        if up:
            active = self.model.max_tx_duration()
            lines += [
                f'pg_stat_activity_max_tx_duration{{datname="nimify",state="active"}} {active:.3f}',
                'pg_stat_activity_max_tx_duration{datname="nimify",state="idle"} 0',
            ]
        return lines

    def _bolt_app(self, pod: dict, ready: int) -> list[str]:
        settings = self.model.bolt_settings(pod)
        uid = pod["metadata"]["uid"]
        sink = settings.get("sink_mode", "async")
        latency = {"sync": 0.0002, "sync-batched": 0.000075}.get(sink, 0.00002)
        events = 800_000.0 if settings.get("log_level") in {"trace", "debug"} else 50_000.0
        per_pod = events / ready
        lines = []
        for le in BOLT_BUCKETS:
            value = self.counter((uid, "bolt", str(le)), per_pod if latency <= le else 0)
            lines.append(f"bolt_logging_duration_seconds_bucket{_labels(le=le)} {_fmt(value)}")
        total = self.counter((uid, "bolt", "count"), per_pod)
        lines += [
            f'bolt_logging_duration_seconds_bucket{{le="+Inf"}} {_fmt(total)}',
            f"bolt_logging_duration_seconds_count {_fmt(total)}",
            f"bolt_log_events_total {_fmt(self.counter((uid, 'events'), per_pod))}",
        ]
        fsync = settings.get("file_sink_fsync") == "true"
        for handler, h_latency in (("file_sink", 0.003 if fsync else 0.0002), ("console", 0.00005)):
            for le in HANDLER_BUCKETS:
                value = self.counter((uid, handler, str(le)), 100.0 if h_latency <= le else 0)
                lines.append(
                    f"bolt_handler_duration_seconds_bucket{_labels(handler=handler, le=le)} "
                    f"{_fmt(value)}"
                )
            value = self.counter((uid, handler, "inf"), 100.0)
            lines.append(
                f"bolt_handler_duration_seconds_bucket{_labels(handler=handler, le='+Inf')} "
                f"{_fmt(value)}"
            )
        allocations = 50.0 if settings.get("allocator", "pool") != "pool" else 0.0
        pool = int(settings.get("event_pool_size", "1024"))
        lines += [
            f"bolt_allocation_count_total {_fmt(self.counter((uid, 'alloc'), allocations))}",
            f"bolt_event_pool_total_events {pool}",
            f"bolt_event_pool_available_events {max(pool - 100, 0)}",
            f"process_resident_memory_bytes {int(self.model.bolt_rss(pod))}",
        ]
        return lines

    # -- cluster and node exporters ------------------------------------------------------------

    def infra_metrics(self, job: str) -> tuple[int, str]:
        if job not in INFRA_JOBS:
            return 404, "unknown job\n"
        with self.model.lock:
            lines = getattr(self, "_" + job.replace("-", "_"))()
        return 200, "\n".join(lines) + "\n"

    def _running_pods(self) -> list[dict]:
        return [
            p
            for p in self.kube.list("Pod")
            if p.get("status", {}).get("phase") == "Running"
            and not p["metadata"].get("deletionTimestamp")
        ]

    def _kube_state_metrics(self) -> list[str]:
        lines = []
        for pod in self._running_pods():
            meta = pod["metadata"]
            counts = {
                s["name"]: int(s.get("restartCount", 0))
                for s in pod["status"].get("containerStatuses", [])
            }
            for container in pod["spec"]["containers"]:
                restarts = max(
                    counts.get(container["name"], 0), self.model.restarts(pod, container)
                )
                labels = _labels(
                    namespace=meta["namespace"], pod=meta["name"], container=container["name"]
                )
                lines.append(f"kube_pod_container_status_restarts_total{labels} {restarts}")
        return lines

    def _cadvisor(self) -> list[str]:
        lines = []
        for pod in self._running_pods():
            meta = pod["metadata"]
            for container in pod["spec"]["containers"]:
                labels = _labels(
                    namespace=meta["namespace"], pod=meta["name"], container=container["name"]
                )
                usage = self.model.memory_usage(pod, container)
                limit = self.model.memory_limit(container)
                lines.append(f"container_memory_usage_bytes{labels} {int(usage)}")
                lines.append(f"container_spec_memory_limit_bytes{labels} {int(limit)}")
        return lines

    def _node_exporter(self) -> list[str]:
        lines = []
        shared_free = self.model.DISK_SIZE - self.model.disk_used()
        for node in self.kube.list("Node"):
            name = node["metadata"]["name"]
            for device, mount, fstype, size, free in (
                ("/dev/nvme0n1p1", "/", "ext4", 50 * 1024**3, 32 * 1024**3),
                ("nfs:/nimify-data", "/data", "nfs4", self.model.DISK_SIZE, shared_free),
                ("/dev/loop0", "/snap/core", "squashfs", 64 * MIB, 0),
            ):
                labels = _labels(instance=name, device=device, mountpoint=mount, fstype=fstype)
                lines.append(f"node_filesystem_size_bytes{labels} {int(size)}")
                lines.append(f"node_filesystem_free_bytes{labels} {int(max(free, 0))}")
        return lines

    def _nvidia_gpu_exporter(self) -> list[str]:
        plugins = self.kube.pods("kube-system", {"name": "nvidia-device-plugin-ds"})
        return [
            f"nvidia_gpu_count{_labels(node=n['metadata']['name'])} "
            f"{self.model.node_gpus(n['metadata']['name'], plugins)}"
            for n in self.kube.list("Node")
        ]


def node_gpu_capacity(node: dict) -> int:
    """The nvidia.com/gpu capacity a Node object advertises."""
    capacity = (node.get("status") or {}).get("capacity") or {}
    return int(parse_quantity(capacity.get("nvidia.com/gpu", "0")))


__all__ = ["APP_JOBS", "INFRA_JOBS", "Exporter", "node_gpu_capacity"]
