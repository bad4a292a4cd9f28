"""HTTP answers of the simulated applications (services/proxy, pods/proxy and ``curl`` in exec)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from sre_runbooks_sandbox.behaviour import HTTPAnswer

from .model import pod_app

if TYPE_CHECKING:
    from .model import SandboxModel


def _json(status: int, data: object) -> HTTPAnswer:
    return HTTPAnswer(
        status=status,
        body=json.dumps(data).encode() + b"\n",
        headers={"Content-Type": "application/json"},
    )


def _text(status: int, text: str) -> HTTPAnswer:
    return HTTPAnswer(status=status, body=text.encode())


def answer(  # noqa: PLR0911  (one return per route: it reads as the routing table)
    model: SandboxModel, pod: dict, port: str, method: str, path: str
) -> HTTPAnswer:
    """What ``pod`` answers to ``method path`` on ``port`` (caller holds the model lock)."""
    path = path.split("?", 1)[0].rstrip("/") or "/"
    app = pod_app(pod)
    containers = pod["spec"].get("containers", [])
    bad = any(model.is_bad_image(c.get("image", "")) for c in containers)
    down = model.pod_down(pod)
    if app == "triton-server":
        return _triton(model, method, path)
    if app == "bolt-app" and path.startswith("/debug/pprof"):
        rss = model.bolt_rss(pod) / 1024**2
        return _text(200, f"heap profile: inuse_space {rss:.0f} MB (ring buffer and event pool)\n")
    if path in {"/health", "/health/live", "/healthz", "/health/ready", "/ready"}:
        if down:
            return _text(503, "unavailable\n")
        if bad and path in {"/health", "/health/ready", "/ready"}:
            return _json(503, {"status": "unhealthy", "error": "inference backend errors"})
        return _json(200, {"status": "healthy"})
    if app == "api-optimizer":
        if path == "/metrics/performance":
            return _json(200, {"p95_latency_ms": 4.0, "error_rate": 0.5 if bad else 0.0})
        if path == "/metrics/system":
            return _json(200, {"memory_percent": 45.0, "cpu_percent": 20.0})
        if path == "/cache/stats":
            ratio = 0.4 if model.api_optimizer_config.get("cache_ttl_seconds") == "5" else 0.85
            return _json(200, {"hit_ratio": ratio, "entries": 73211})
    return _text(404, "404 page not found\n")


def _triton(model: SandboxModel, method: str, path: str) -> HTTPAnswer:
    if path in {"/v2/health/ready", "/v2/health/live"}:
        ready = "UNAVAILABLE" not in model.triton_models.values()
        return _text(200 if ready or path.endswith("live") else 400, "")
    if path in {"/v2/repository/index", "/v2/models"} and method in {"GET", "POST"}:
        return _json(
            200,
            [
                {"name": name, "version": "1", "state": state}
                for name, state in model.triton_models.items()
            ],
        )
    parts = path.split("/")
    if len(parts) == 6 and parts[1:4] == ["v2", "repository", "models"] and method == "POST":
        name, action = parts[4], parts[5]
        if name not in model.triton_models:
            return _json(400, {"error": f"failed to load '{name}', no version is available"})
        if action == "load":
            # A repository reload re-reads the fixed model files and succeeds.
            model.triton_models[name] = "READY"
            return _json(200, {})
        if action == "unload":
            model.triton_models[name] = "UNLOADED"
            return _json(200, {})
    return _text(404, "404 page not found\n")
