"""The sandbox's simulator process: API server, simulated systems, metrics and control, in one.

    python -m sre_runbooks_sandbox.serve --state-dir DIR

Starts the simulated API server (with the seed systems' behaviour when the API server accepts a
``workloads`` object), creates every seed system, and serves on one loopback port:

- ``GET /sd/<job>``: Prometheus HTTP service discovery, one target per pod of the job;
- ``GET /metrics/<job>/<pod>`` and ``GET /metrics/<job>``: the exposition per pod or per
  node-level exporter;
- ``GET /control/status``, ``POST /control/inject`` ``{"alert", "system"}``,
  ``POST /control/clear`` ``{"alert"?, "system"?}`` and ``POST /control/reset`` (every object,
  the simulated systems and their metrics as at start; ``Sandbox.reset``).

It writes ``DIR/kubeconfig`` and ``DIR/serve.json`` (URLs and PID), prints that JSON on one line
once ready, and runs until SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import inspect
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sre_runbooks_sandbox.apiserver import start_apiserver
from sre_runbooks_sandbox.workloads import SCENARIOS, SandboxModel, find, restore_baseline
from sre_runbooks_sandbox.workloads.kube import Kube
from sre_runbooks_sandbox.workloads.manifests import GPUS_PER_NODE, manifests
from sre_runbooks_sandbox.workloads.metrics import APP_JOBS, Exporter, node_gpu_capacity

TICK_SECONDS = 0.5
# How long a reset waits for the new cluster's workloads to be ready before it serves it anyway.
SETTLE_SECONDS = 15.0


def _sync(model: SandboxModel, kube: Kube) -> None:
    """Carry cluster changes into the model: ConfigMaps read at run time, GPU capacity."""
    bolt = kube.get("ConfigMap", "bolt-logging", "bolt-app-config")
    model.update_bolt_config(bolt)
    api = kube.get("ConfigMap", "api-optimizer", "api-optimizer-config") or {}
    with model.lock:
        model.api_optimizer_config = dict(api.get("data") or {})
    plugins = kube.pods("kube-system", {"name": "nvidia-device-plugin-ds"})
    for node in kube.list("Node"):
        name = node["metadata"]["name"]
        gpus = model.node_gpus(name, plugins) if plugins else GPUS_PER_NODE
        if node_gpu_capacity(node) != gpus:

            def change(obj: dict, gpus: int = gpus) -> None:
                for key in ("capacity", "allocatable"):
                    obj["status"].setdefault(key, {})["nvidia.com/gpu"] = str(gpus)

            kube.patch("Node", "", name, change, "status")


def _workloads_ready(kube: Kube) -> bool:
    """Whether every seed workload runs all its replicas, up to date and ready."""
    for obj in manifests():
        kind, meta = obj["kind"], obj["metadata"]
        if kind not in {"Deployment", "StatefulSet", "DaemonSet"}:
            continue
        current = kube.get(kind, meta.get("namespace", ""), meta["name"])
        if current is None:
            return False
        status = current.get("status") or {}
        if status.get("observedGeneration") != current["metadata"].get("generation"):
            return False
        if kind == "DaemonSet":
            wanted = status.get("desiredNumberScheduled", 0)
            if not wanted or status.get("numberReady", 0) != wanted:
                return False
        elif status.get("readyReplicas", 0) != current["spec"].get("replicas", 1):
            return False
    return True


class Sandbox:
    """The running simulator and what the control endpoint does to it."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.model = SandboxModel()
        kwargs: dict[str, Any] = {"kubeconfig": state_dir / "kubeconfig"}
        # The API server learns to ask a Workloads object for container states, logs, exec and
        # proxy answers; until that lands, the simulator runs without it (metrics still work).
        self.workloads_wired = "workloads" in inspect.signature(start_apiserver).parameters
        if self.workloads_wired:
            kwargs["workloads"] = self.model
        self.server = start_apiserver(**kwargs)
        # Held by the sync ticks, the control requests and a reset, which replaces the model, the
        # cluster and the exporter together.
        self.lock = threading.RLock()
        self.active: list[str] = []
        self.stopping = threading.Event()
        self._attach(self.model, self.server.cluster)
        for obj in manifests():
            self.kube.create(obj)
        self.sync()

    def _attach(self, model: SandboxModel, cluster: Any) -> None:
        """Make ``model`` and ``cluster`` the running ones, with an exporter of their own."""
        kube = Kube(cluster)
        model.read_bolt_configmap = lambda: kube.get("ConfigMap", "bolt-logging", "bolt-app-config")
        self.model, self.kube = model, kube
        self.exporter = Exporter(model, kube)

    def sync(self) -> None:
        """Carry cluster changes into the model: ConfigMaps read at run time, GPU capacity."""
        with self.lock:
            _sync(self.model, self.kube)

    def run_ticks(self) -> None:
        while not self.stopping.wait(TICK_SECONDS):
            try:
                self.sync()
            except Exception as error:
                sys.stderr.write(f"sync failed: {error!r}\n")

    def inject(self, alert: str, system: str | None) -> dict[str, Any]:
        scenario = find(alert, system)
        with self.lock:
            scenario.inject(self.model, self.kube)
            if scenario.key not in self.active:
                self.active.append(scenario.key)
        return {"injected": scenario.key, "cure": scenario.cure}

    def clear(self, alert: str | None, system: str | None) -> dict[str, Any]:
        keys = [find(alert, system).key] if alert else list(SCENARIOS)
        with self.lock:
            for key in keys:
                SCENARIOS[key].reset(self.model, self.kube)
                if key in self.active:
                    self.active.remove(key)
            restore_baseline(self.model, self.kube)
            _sync(self.model, self.kube)
        return {"cleared": keys if alert else "all"}

    def reset(self) -> dict[str, Any]:
        """Back to the state `up` created: a new cluster, model and exporter, no fault.

        The new cluster (same seed: the same objects, UIDs and pod names as at start) is built
        and settled beside the old one before the API server answers from it, so Prometheus
        scrapes the old systems until ``swapped_at`` (a Unix time) and the healthy new ones after.
        """
        started = time.monotonic()
        model = SandboxModel()

        def populate(cluster: Any) -> None:
            kube = Kube(cluster)
            model.read_bolt_configmap = lambda: kube.get(
                "ConfigMap", "bolt-logging", "bolt-app-config"
            )
            for obj in manifests():
                kube.create(obj)

        def settled(cluster: Any) -> bool:
            kube = Kube(cluster)
            if not _workloads_ready(kube):
                return False
            _sync(model, kube)
            return True

        with self.lock:
            cluster = self.server.reset(
                model if self.workloads_wired else None, populate, settled, SETTLE_SECONDS
            )
            swapped_at = time.time()
            self._attach(model, cluster)
            self.active = []
            ready = _workloads_ready(self.kube)
        return {
            "reset": True,
            "workloads_ready": ready,
            "swapped_at": swapped_at,
            "cluster_seconds": round(time.monotonic() - started, 3),
        }

    def status(self) -> dict[str, Any]:
        return {
            "api_url": self.server.url,
            "active": list(self.active),
            "workloads_wired": self.workloads_wired,
        }


def _handler(sandbox: Sandbox, address: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            return

        def _send(self, status: int, body: str | bytes, kind: str = "text/plain") -> None:
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, data: object) -> None:
            self._send(status, json.dumps(data) + "\n", "application/json")

        def do_GET(self) -> None:
            parts = [p for p in self.path.split("?", 1)[0].split("/") if p]
            if parts[:1] == ["sd"] and len(parts) == 2 and parts[1] in APP_JOBS:
                self._json(200, sandbox.exporter.service_discovery(parts[1], address))
            elif parts[:1] == ["metrics"] and len(parts) == 3:
                status, text = sandbox.exporter.pod_metrics(parts[1], parts[2])
                self._send(status, text, "text/plain; version=0.0.4")
            elif parts[:1] == ["metrics"] and len(parts) == 2:
                status, text = sandbox.exporter.infra_metrics(parts[1])
                self._send(status, text, "text/plain; version=0.0.4")
            elif parts == ["control", "status"]:
                self._json(200, sandbox.status())
            else:
                self._send(404, "not found\n")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                request = json.loads(self.rfile.read(length) or b"{}")
                if self.path == "/control/inject":
                    self._json(200, sandbox.inject(request["alert"], request.get("system")))
                elif self.path == "/control/clear":
                    self._json(200, sandbox.clear(request.get("alert"), request.get("system")))
                elif self.path == "/control/reset":
                    self._json(200, sandbox.reset())
                else:
                    self._send(404, "not found\n")
            except KeyError as error:
                self._json(404, {"error": f"no scenario for {error}"})
            except Exception as error:
                self._json(500, {"error": repr(error)})

    return Handler


def main(argv: list[str] | None = None) -> int:
    """Start everything, announce the URLs, and serve until told to stop."""
    parser = argparse.ArgumentParser(prog="python -m sre_runbooks_sandbox.serve")
    parser.add_argument("--state-dir", required=True, help="where kubeconfig and serve.json go")
    parser.add_argument("--port", type=int, default=0, help="metrics/control port (0: any free)")
    args = parser.parse_args(argv)
    state_dir = Path(args.state_dir).resolve()
    state_dir.mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(state_dir)
    http = ThreadingHTTPServer(("127.0.0.1", args.port), BaseHTTPRequestHandler)
    port = http.server_address[1]
    http.RequestHandlerClass = _handler(sandbox, f"127.0.0.1:{port}")
    http.daemon_threads = True
    threading.Thread(target=http.serve_forever, name="sandbox-metrics", daemon=True).start()
    threading.Thread(target=sandbox.run_ticks, name="sandbox-sync", daemon=True).start()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: sandbox.stopping.set())
    info = {
        "api_url": sandbox.server.url,
        "control_url": f"http://127.0.0.1:{port}",
        "kubeconfig": str(state_dir / "kubeconfig"),
        "workloads_wired": sandbox.workloads_wired,
    }
    # Written aside and renamed: `runbook sandbox up` polls for this file and must never read
    # it half-written.
    partial = state_dir / "serve.json.partial"
    partial.write_text(json.dumps(info, indent=2))
    partial.replace(state_dir / "serve.json")
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    sandbox.stopping.wait()
    http.shutdown()
    sandbox.server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
