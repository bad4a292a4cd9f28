"""A simulated Kubernetes API server, with controllers, for the runbook sandbox.

Start it from Python with `start_apiserver()` (tests) or from the shell with
`python -m sre_runbooks_sandbox.apiserver --port 0 --kubeconfig PATH`. Clients need nothing
special: the kubeconfig points them at http://127.0.0.1:PORT with a dummy token.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..behaviour import Workloads
from .api import Cluster
from .controllers import ControlPlane
from .http import ApiHTTPServer

__all__ = ["DEFAULT_NODES", "ApiServer", "kubeconfig_text", "start_apiserver", "write_kubeconfig"]

DEFAULT_NODES = ("node-a", "node-b")


@dataclass
class ApiServer:
    """A running simulator: its URL, its state, and how to stop it."""

    url: str
    cluster: Cluster
    kubeconfig: Path | None = None
    _http: ApiHTTPServer | None = field(default=None, repr=False)
    _control: ControlPlane | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)
    nodes: tuple[str, ...] = DEFAULT_NODES
    seed: int = 0

    def reset(
        self,
        workloads: Workloads | None = None,
        populate: Callable[[Cluster], None] | None = None,
        settled: Callable[[Cluster], bool] | None = None,
        settle_timeout: float = 10.0,
    ) -> Cluster:
        """Replace the cluster by a new one, as ``start_apiserver`` made it; return it.

        The old cluster's controllers stop first, so it changes no more. The new one (same
        nodes and seed, so the same UIDs and names as at start) is built beside it:
        bootstrapped, ``populate(cluster)`` creates what the caller created at start, its
        controllers run and, with ``settled``, get up to ``settle_timeout`` seconds until
        ``settled(cluster)`` holds. Only then does the server answer from it, on the same port.

        Its resourceVersions continue the old cluster's and skip one, so a client that watches
        from an old resourceVersion gets 410 Gone and lists again, as after an etcd compaction;
        open watches end.
        """
        old_cluster, old_control = self.cluster, self._control
        if old_control is not None:
            old_control.stop()
        cluster = Cluster(
            seed=self.seed,
            workloads=workloads,
            resource_version=old_cluster.store.resource_version + 1,
        )
        control = ControlPlane(cluster, self.nodes)
        control.bootstrap()
        if populate is not None:
            populate(cluster)
        control.start()
        if settled is not None:
            deadline = time.monotonic() + settle_timeout
            while not settled(cluster) and time.monotonic() < deadline:
                time.sleep(0.05)
        self.cluster, self._control = cluster, control
        if self._http is not None:
            self._http.cluster = cluster
        with old_cluster.store.lock:  # watches on the old cluster see the change at once
            old_cluster.store.changed.notify_all()
        return cluster

    def stop(self) -> None:
        """Stop serving (open watches end) and stop the controllers."""
        if self._http is not None:
            self._http.stopping.set()
            self._http.shutdown()
            self._http.server_close()
        if self._control is not None:
            self._control.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def kubeconfig_text(url: str, name: str = "sandbox") -> str:
    """A kubeconfig (YAML is a superset of JSON, so no YAML library is needed)."""
    import json  # noqa: PLC0415  (only needed here)

    config = {
        "apiVersion": "v1",
        "clusters": [{"cluster": {"server": url}, "name": name}],
        "contexts": [
            {"context": {"cluster": name, "namespace": "default", "user": name}, "name": name}
        ],
        "current-context": name,
        "kind": "Config",
        "preferences": {},
        "users": [{"name": name, "user": {"token": "sandbox-token"}}],
    }
    return json.dumps(config, indent=2) + "\n"


def write_kubeconfig(path: str | os.PathLike[str], url: str) -> Path:
    """Write a kubeconfig for `url` to `path` (mode 0600, like kubectl's own)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(kubeconfig_text(url), encoding="utf-8")
    target.chmod(0o600)
    return target


def start_apiserver(
    port: int = 0,
    kubeconfig: str | os.PathLike[str] | None = None,
    nodes: tuple[str, ...] = DEFAULT_NODES,
    seed: int = 0,
    workloads: Workloads | None = None,
) -> ApiServer:
    """Start the simulator on 127.0.0.1:`port` (0 picks a free port) and return its handle.

    `workloads` answers for what runs inside the pods (container states, logs, exec, HTTP
    through the proxy subresources, metrics); `GenericWorkloads` when not given.
    """
    cluster = Cluster(seed=seed, workloads=workloads)
    control = ControlPlane(cluster, nodes)
    control.bootstrap()
    http = ApiHTTPServer(("127.0.0.1", port), cluster)
    thread = threading.Thread(
        target=http.serve_forever,
        kwargs={"poll_interval": 0.1},
        name="sandbox-apiserver",
        daemon=True,
    )
    thread.start()
    control.start()
    server = ApiServer(http.url, cluster, None, http, control, thread, tuple(nodes), seed)
    if kubeconfig is not None:
        server.kubeconfig = write_kubeconfig(kubeconfig, http.url)
    return server
