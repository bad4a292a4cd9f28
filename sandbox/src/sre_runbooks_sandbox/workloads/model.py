"""The state of the simulated systems and how their containers behave (the ``Workloads`` side).

``SandboxModel`` holds what Kubernetes objects cannot: disk contents, database sessions, the
Redis configuration, Triton's model states and the faults that are active. Everything else is
read from the cluster itself, so that an operator's ``kubectl`` changes (rollout undo, scale,
limits, deleting pods) are what cure a fault. The rules, by system:

- nimify-api / api-gateway / api-optimizer: a pod whose image is marked bad answers 5xx for
  half of its requests; latency follows the traffic per ready replica.
- Memory leaks and stuck processes affect only pods created before the fault (``since``), so a
  restart (rollout restart, deleting the pod) or a rollout that replaces the pods cures them.
- OOM crash loops affect containers whose memory limit is below what the fault needs.
- The GPU count of a node is 0 while its device-plugin pod predates the GPU fault.
- bolt-app reads ConfigMap bolt-app-config when a pod starts (snapshot per pod).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sre_runbooks_sandbox.behaviour import ContainerRun, ExecResult, HTTPAnswer, Usage

from .execs import run_exec
from .manifests import BOLT_CONFIG, GIB, GPUS_PER_NODE, MIB, parse_config_yaml

BAD_TAG_MARK = "bad"


def parse_quantity(text: str | int | float | None) -> float:
    """A Kubernetes quantity ("2Gi", "500m", "1") as a number (bytes or cores)."""
    if text is None or text == "":
        return 0.0
    if isinstance(text, int | float):
        return float(text)
    units = {
        "Ki": 1024,
        "Mi": 1024**2,
        "Gi": 1024**3,
        "Ti": 1024**4,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "m": 1e-3,
    }
    for suffix in sorted(units, key=len, reverse=True):
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * units[suffix]
    return float(text)


def pod_app(pod: dict) -> str:
    """The simulated system a pod belongs to (its ``app`` label, or the device plugin)."""
    labels = pod["metadata"].get("labels") or {}
    if labels.get("name") == "nvidia-device-plugin-ds":
        return "nvidia-device-plugin"
    return str(labels.get("app", ""))


def created_at(pod: dict) -> float:
    """The pod's creation time as a Unix time (the API server writes RFC 3339, seconds)."""
    stamp = pod["metadata"].get("creationTimestamp", "")
    try:
        return time.mktime(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    except ValueError:
        return 0.0


@dataclass
class SimFile:
    """One file on the simulated shared volume of nimify-api."""

    path: str
    size: int
    age_days: float


@dataclass
class Backend:
    """One PostgreSQL session as pg_stat_activity shows it."""

    pid: int
    query: str
    started: float
    state: str = "active"
    user: str = "nimify"


@dataclass
class Fault:
    """An active fault: what it is, when it started and its parameters."""

    kind: str
    since: float
    params: dict[str, Any] = field(default_factory=dict)


def _initial_files() -> list[SimFile]:
    return [
        SimFile("/models/resnet50/1/model.plan", 6 * GIB, 30),
        SimFile("/models/bert-base/1/model.onnx", 4 * GIB, 30),
        SimFile("/cache/embeddings.db", 5 * GIB, 1),
        SimFile("/var/log/nimify/api.log", 2 * GIB, 0),
        SimFile("/logs/access.log", GIB, 0),
        SimFile("/tmp/upload-0001.bin", 200 * MIB, 0),  # noqa: S108  (a simulated path)
    ]


class SandboxModel:
    """The simulated systems: implements ``Workloads`` and feeds the metrics exporter."""

    DISK_SIZE = 100 * GIB
    DISK_BASE_USED = 20 * GIB  # the image layers and OS on the shared volume's filesystem

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: dict[str, Fault] = {}
        self.bad_images: set[str] = set()
        # Images no registry has: their pods stay in ImagePullBackOff (a typo'd tag).
        self.unpullable_images: set[str] = set()
        self.files = _initial_files()
        self.backends: list[Backend] = [
            Backend(4101, "SELECT id, status FROM jobs WHERE id = $1", time.time(), "idle"),
        ]
        self.next_pid = 4200
        self.redis_config = {"maxmemory": str(2 * GIB), "maxmemory-policy": "allkeys-lru"}
        self.triton_models: dict[str, str] = {"resnet50": "READY", "bert-base": "READY"}
        self.model_load_failures: dict[str, float] = dict.fromkeys(self.triton_models, 0.0)
        self.api_optimizer_config: dict[str, str] = {}
        self.bolt_snapshots: dict[str, dict[str, str]] = {}
        self.bolt_config: dict[str, str] = dict(BOLT_CONFIG)
        # Set by the simulator: returns ConfigMap bolt-logging/bolt-app-config (or None).
        self.read_bolt_configmap: Callable[[], dict | None] | None = None

    # -- faults ----------------------------------------------------------------------------

    def set_fault(self, kind: str, **params: Any) -> None:
        with self.lock:
            self.faults[kind] = Fault(kind, time.time(), dict(params))

    def clear_fault(self, kind: str) -> None:
        with self.lock:
            self.faults.pop(kind, None)

    def fault(self, kind: str) -> Fault | None:
        return self.faults.get(kind)

    def stale(self, kind: str, pod: dict) -> bool:
        """Whether the pod predates fault ``kind`` (so a restart of the pod cures it)."""
        fault = self.faults.get(kind)
        # Creation timestamps have whole-second resolution, so a pod created in the fault's
        # own second counts as older: the fault must not miss a pod that raced it.
        return fault is not None and created_at(pod) <= fault.since

    # -- what each pod does ----------------------------------------------------------------

    def is_bad_image(self, image: str) -> bool:
        tag = image.rsplit(":", 1)[-1] if ":" in image.rsplit("/", 1)[-1] else ""
        return image in self.bad_images or BAD_TAG_MARK in tag

    def memory_limit(self, container: dict) -> float:
        limits = (container.get("resources") or {}).get("limits") or {}
        return parse_quantity(limits.get("memory"))

    def oom(self, pod: dict, container: dict) -> bool:
        """Whether the container is OOM-killed: the fault needs more than its limit."""
        fault = self.faults.get("oom")
        if fault is None or pod_app(pod) != fault.params.get("app"):
            return False
        limit = self.memory_limit(container)
        return bool(limit) and limit < fault.params["need"]

    def restarts(self, pod: dict, container: dict) -> int:
        """Restarts the model adds: a crash-looping container restarts every few seconds."""
        if not self.oom(pod, container):
            return 0
        fault = self.faults["oom"]
        start = max(created_at(pod), fault.since)
        return 1 + int((time.time() - start) / fault.params.get("every", 3.0))

    def pod_down(self, pod: dict) -> bool:
        """Whether the pod's service process is down (its scrape fails, it is not ready)."""
        app = pod_app(pod)
        if any(self.oom(pod, c) for c in pod["spec"].get("containers", [])):
            return True
        return app == "api-gateway" and self.stale("gateway-down", pod)

    def container_run(self, pod: dict, container: dict) -> ContainerRun:
        image = container.get("image", "")
        if image in self.unpullable_images:
            return ContainerRun(
                state="waiting",
                reason="ImagePullBackOff",
                message=f'Back-off pulling image "{image}"',
                ready=False,
            )
        if self.oom(pod, container):
            return ContainerRun(
                state="waiting",
                reason="CrashLoopBackOff",
                message=f"back-off 10s restarting failed container={container['name']}",
                ready=False,
                restarting=True,
                restarts_per_minute=20.0,
                last_termination={"reason": "OOMKilled", "exitCode": 137, "signal": 9},
            )
        if pod_app(pod) == "postgres" and self.stale("postgres-down", pod):
            return ContainerRun(
                state="waiting",
                reason="CrashLoopBackOff",
                message="back-off 10s restarting failed container=postgres",
                ready=False,
                restarting=True,
                restarts_per_minute=2.0,
                last_termination={"reason": "Error", "exitCode": 1},
            )
        if self.pod_down(pod):
            return ContainerRun(ready=False)
        return ContainerRun()

    # -- resource usage --------------------------------------------------------------------

    def memory_usage(self, pod: dict, container: dict) -> float:
        limit = self.memory_limit(container) or GIB
        app = pod_app(pod)
        if self.stale(f"memory-leak:{app}", pod):
            return limit * 0.95
        if app == "bolt-app":
            return self.bolt_rss(pod)
        return limit * 0.45

    def usage(self, pod: dict) -> dict[str, Usage]:
        with self.lock:
            return {
                c["name"]: Usage(cpu=0.25, memory=int(self.memory_usage(pod, c)))
                for c in pod["spec"].get("containers", [])
            }

    # -- nimify-api traffic ----------------------------------------------------------------

    def nimify_traffic(self) -> float:
        fault = self.faults.get("nimify-surge")
        return 1500.0 if fault else 100.0

    # -- disk ------------------------------------------------------------------------------

    def disk_used(self) -> int:
        return self.DISK_BASE_USED + sum(f.size for f in self.files)

    # -- postgres --------------------------------------------------------------------------

    def max_tx_duration(self) -> float:
        now = time.time()
        ages = [now - b.started for b in self.backends if b.state == "active"]
        return max(ages, default=0.0)

    # -- redis -----------------------------------------------------------------------------

    def redis_hit_rate(self) -> float:
        return 0.95 if parse_quantity_redis(self.redis_config["maxmemory"]) >= GIB else 0.55

    # -- bolt ------------------------------------------------------------------------------

    def bolt_settings(self, pod: dict) -> dict[str, str]:
        """The configuration a bolt-app pod read when it started."""
        uid = pod["metadata"].get("uid", "")
        with self.lock:
            if uid in self.bolt_snapshots:
                return self.bolt_snapshots[uid]
        # A starting pod reads the ConfigMap as it is now, not as the last tick saw it: an
        # operator's patch followed at once by a restart must reach the new pods. Read outside
        # the model's lock, so the lock order is always cluster first, model second.
        if self.read_bolt_configmap is not None:
            self.update_bolt_config(self.read_bolt_configmap())
        with self.lock:
            return self.bolt_snapshots.setdefault(uid, dict(self.bolt_config))

    def bolt_rss(self, pod: dict) -> float:
        ring = float(self.bolt_settings(pod).get("ring_buffer_mb", "64"))
        return 100 * MIB + ring * MIB

    def update_bolt_config(self, configmap: dict | None) -> None:
        if configmap is None:
            return
        values = parse_config_yaml((configmap.get("data") or {}).get("config.yaml", ""))
        with self.lock:
            self.bolt_config = {**BOLT_CONFIG, **values}

    # -- logs, exec, http ------------------------------------------------------------------

    def logs(self, pod: dict, container: str, *, previous: bool = False) -> list[str]:
        with self.lock:
            return _logs(self, pod, container, previous=previous)

    def exec(self, pod: dict, container: str, command: list[str]) -> ExecResult:
        with self.lock:
            return run_exec(self, pod, container, command)

    def http(
        self, pod: dict, port: str, method: str, path: str, *, headers: dict[str, str], body: bytes
    ) -> HTTPAnswer:
        from .http_answers import answer  # noqa: PLC0415  (keeps the import graph acyclic)

        with self.lock:
            return answer(self, pod, port, method, path)

    # -- GPUs ------------------------------------------------------------------------------

    def node_gpus(self, node: str, plugin_pods: list[dict]) -> int:
        """GPUs a node advertises: 0 without a device-plugin pod that postdates a GPU fault."""
        on_node = [p for p in plugin_pods if p["spec"].get("nodeName") == node]
        healthy = [p for p in on_node if not self.stale("gpu-lost", p)]
        return GPUS_PER_NODE if healthy else 0


def parse_quantity_redis(text: str) -> float:
    """Redis memory notation: "2gb", "64mb", "100kb" or bytes."""
    value = text.strip().lower()
    for suffix, factor in (("gb", GIB), ("mb", MIB), ("kb", 1024), ("b", 1)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value or 0)


def _logs(  # noqa: PLR0912  (one branch per system's log lines keeps them side by side)
    model: SandboxModel, pod: dict, container: str, *, previous: bool
) -> list[str]:
    name = pod["metadata"]["name"]
    app = pod_app(pod)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = [f"{stamp} INFO {container} started in pod {name}"]
    spec = next((c for c in pod["spec"].get("containers", []) if c["name"] == container), {})
    if previous:
        if spec and model.oom(pod, spec):
            return [*lines, f"{stamp} INFO loading model cache", f"{stamp} FATAL out of memory"]
        return []
    if app in {"nimify-api", "api-optimizer", "api-gateway"} and model.is_bad_image(
        spec.get("image", "")
    ):
        lines += [
            f"{stamp} ERROR request failed: 500 Internal Server Error: inference backend "
            "returned malformed response",
            f"{stamp} ERROR upstream triton-server: unsupported protocol version",
        ]
    if app == "nimify-api":
        if model.fault("nimify-surge"):
            lines.append(f"{stamp} WARN request queue depth 512 exceeds 64; latency rising")
        if model.stale("memory-leak:nimify-api", pod):
            lines.append(f"{stamp} WARN heap usage 95% of limit; GC cannot reclaim")
        if model.disk_used() / model.DISK_SIZE > 0.85:
            lines.append(f"{stamp} WARN disk /var/log 90% full")
    if app == "triton-server":
        lines.append(f"{stamp} I0101 server.cc:662] inference time 12.3 ms (resnet50)")
        for model_name, state in model.triton_models.items():
            if state != "READY":
                lines.append(
                    f"{stamp} E0101 model_lifecycle.cc:638] failed to load model "
                    f"'{model_name}' version 1: Invalid argument: load failed: model.plan: "
                    "serialization version mismatch (error loading model)"
                )
    if app == "postgres":
        if model.stale("postgres-down", pod):
            lines.append(f'{stamp} FATAL: could not open file "global/pg_filenode.map"')
        for backend in model.backends:
            age = time.time() - backend.started
            if backend.state == "active" and age > 30:
                lines.append(
                    f"{stamp} LOG: duration: {age * 1000:.0f} ms slow query: {backend.query}"
                )
    if app == "bolt-app":
        settings = model.bolt_settings(pod)
        if int(settings.get("event_pool_size", "1024")) < 120:
            lines.append(f"{stamp} WARN event pool nearly exhausted")
        if settings.get("allocator") != "pool":
            lines.append(f"{stamp} ERROR unexpected heap allocation on the hot path")
    if app == "api-gateway" and model.stale("gateway-slow", pod):
        lines.append(f"{stamp} WARN upstream connection pool exhausted; waiting 1500ms")
    return lines
