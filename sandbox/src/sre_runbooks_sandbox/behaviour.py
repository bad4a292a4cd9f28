"""What the simulated applications do inside their pods: the seam between API server and workloads.

The API server knows Kubernetes; it does not know what nimify-api logs or what `redis-cli info`
prints. Whenever it needs an answer that a real container would give (a container's state for the
kubelet, log lines, an exec, an HTTP request through the proxy subresources, resource usage for
metrics.k8s.io), it asks the ``Workloads`` object it was started with. ``GenericWorkloads`` is the
default: every container runs, is ready and answers little. The sandbox's simulated systems
(``sre_runbooks_sandbox.workloads``) implement the same interface from their state and faults.

All methods are called from API server threads and must be quick and thread-safe. The kubelet
asks ``container_run`` from a worker thread of the pod's own, so a slow or blocked answer delays
that pod's status and nothing else (no other pod's start or deletion, no controller). ``pod`` and
``container`` are the API objects as stored (dicts); treat them as read-only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ContainerRun:
    """The state the kubelet reports for one container of a running pod.

    ``state`` is ``running``, ``waiting`` (e.g. reason CrashLoopBackOff, ImagePullBackOff,
    ErrImagePull) or ``terminated``. While ``restarting`` is true the kubelet counts restarts up
    at about ``restarts_per_minute`` and reports ``last_termination`` (reason, exit code,
    signal) as the container's lastState, as a crash-looping container shows.
    """

    state: str = "running"
    reason: str = ""
    message: str = ""
    ready: bool = True
    restarting: bool = False
    restarts_per_minute: float = 0.0
    last_termination: dict[str, object] | None = None


@dataclass(frozen=True)
class ExecResult:
    stdout: str = ""
    stderr: str = ""
    exit_code: int = 0


@dataclass(frozen=True)
class HTTPAnswer:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/plain"})


@dataclass(frozen=True)
class Usage:
    """Resource usage of one container: CPU in cores, memory in bytes."""

    cpu: float
    memory: int


class Workloads(Protocol):
    """The simulated applications behind the pods."""

    def container_run(self, pod: dict, container: dict) -> ContainerRun:
        """The state of ``container`` in ``pod`` (a pod the scheduler has bound)."""
        ...

    def logs(self, pod: dict, container: str, *, previous: bool = False) -> list[str]:
        """Log lines of a container, oldest first (``previous``: the last terminated run)."""
        ...

    def exec(self, pod: dict, container: str, command: list[str]) -> ExecResult:
        """Run ``command`` (an argv list, never a shell string) in a container."""
        ...

    def http(
        self, pod: dict, port: str, method: str, path: str, *, headers: dict[str, str], body: bytes
    ) -> HTTPAnswer:
        """An HTTP request to ``port`` of ``pod`` (services/proxy resolves the pod first)."""
        ...

    def usage(self, pod: dict) -> dict[str, Usage]:
        """Current usage per container name, for metrics.k8s.io PodMetrics."""
        ...


class GenericWorkloads:
    """Containers that run, are ready, log that they started and answer nothing else."""

    def container_run(self, pod: dict, container: dict) -> ContainerRun:
        return ContainerRun()

    def logs(self, pod: dict, container: str, *, previous: bool = False) -> list[str]:
        if previous:
            return []
        return [f"{container} started in pod {pod['metadata']['name']}"]

    def exec(self, pod: dict, container: str, command: list[str]) -> ExecResult:
        if command[:1] == ["echo"]:
            return ExecResult(stdout=" ".join(command[1:]) + "\n")
        if command == ["hostname"]:
            return ExecResult(stdout=pod["metadata"]["name"] + "\n")
        name = command[0] if command else ""
        # What a container runtime answers when the executable does not exist in the image.
        return ExecResult(
            stderr=(
                "OCI runtime exec failed: exec failed: unable to start container process: "
                f'exec: "{name}": executable file not found in $PATH: unknown\n'
            ),
            exit_code=126,
        )

    def http(
        self, pod: dict, port: str, method: str, path: str, *, headers: dict[str, str], body: bytes
    ) -> HTTPAnswer:
        return HTTPAnswer(status=404, body=b"404 page not found\n")

    def usage(self, pod: dict) -> dict[str, Usage]:
        return {
            c["name"]: Usage(cpu=0.001, memory=8 * 1024 * 1024)
            for c in pod["spec"].get("containers", [])
        }
