"""A simulated Kubernetes API server, with controllers, for the runbook sandbox.

Start it from Python with `start_apiserver()` (tests) or from the shell with
`python -m sre_runbooks_sandbox.apiserver --port 0 --kubeconfig PATH`. Clients need nothing
special: the kubeconfig points them at http://127.0.0.1:PORT with a dummy token.
"""

from __future__ import annotations

import os
import threading
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
    server = ApiServer(http.url, cluster, None, http, control, thread)
    if kubeconfig is not None:
        server.kubeconfig = write_kubeconfig(kubeconfig, http.url)
    return server
