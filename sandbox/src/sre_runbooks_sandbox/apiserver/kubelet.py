"""The simulated kubelets: start bound pods, report their containers' states, stop deleted pods.

What a container is doing comes from the cluster's `Workloads` (``container_run``), asked on every
reconcile pass, so a fault injected into a simulated application shows in the pod at once: a
container that stops being ready takes the pod out of its Services' Endpoints, a crash-looping one
waits in CrashLoopBackOff with a growing restartCount and the last termination as lastState. The
pod is written only when its status really changed, so watches and resourceVersions stay quiet.

Events are recorded the way the real kubelet's recorder does, and repeats of the same event are
folded into one object whose ``count`` and ``lastTimestamp`` grow, as the client-go event
correlator does.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..behaviour import ContainerRun
from . import errors
from .objects import now

if TYPE_CHECKING:
    from ..behaviour import Workloads
    from .controllers import ControlPlane

_log = logging.getLogger(__name__)

# Records an event about a container: tell(reason, message[, type]).
Tell = Callable[..., None]

# A crash-looping container restarts this often when the workload does not say.
DEFAULT_RESTARTS_PER_MINUTE = 2.0
# The kubelet's restart back-off: 10 s doubling up to 5 minutes.
BACKOFF_START, BACKOFF_MAX = 10, 300
IMAGE_PULL_REASONS = ("ErrImagePull", "ImagePullBackOff")
# A v1.36 kubelet's Pulled message for an image it has (the pod's pull credentials checked); its
# Created and Started messages no longer name the container (the event's fieldPath does).
IMAGE_PRESENT = "already present on machine and can be accessed by the pod"
# How long a deleted pod's containers take to stop. A container that exits at once on SIGTERM
# still keeps its pod Terminating for about this long on a real node: clients rely on seeing it
# (`kubectl delete` GETs the pod, then lists and watches it by name until it is gone; a pod
# removed and replaced by its StatefulSet between those two requests would never be seen to go).
STOP_SECONDS = 1.0


def go_duration(seconds: int) -> str:
    """Seconds as Go's time.Duration prints them: 10s, 1m20s, 5m0s."""
    minutes, rest = divmod(seconds, 60)
    return f"{minutes}m{rest}s" if minutes else f"{rest}s"


def qualified_image(image: str) -> str:
    """The image reference as containerd reports it (docker.io/library/nginx:1.25)."""
    first = image.split("/", maxsplit=1)[0]
    if "/" in image and ("." in first or ":" in first or first == "localhost"):
        return image
    return f"docker.io/{image if '/' in image else 'library/' + image}"


def pod_ref(pod: dict) -> str:
    """How the kubelet names a pod in messages: name_namespace(uid)."""
    meta = pod["metadata"]
    return f"{meta['name']}_{meta['namespace']}({meta['uid']})"


class _PodWorker:
    """One pod's worker: asks the workloads about the pod's containers on a thread of its own.

    `ask()` hands it the pod as the pass sees it and returns at once; `runs` is the last answer
    (None until the first). A new answer that differs from the last wakes the control plane.
    """

    def __init__(self, workloads: Workloads, pod: dict, wake: Callable[[], None]) -> None:
        self._workloads = workloads
        self._wake = wake
        self._cond = threading.Condition()
        self._pending: dict | None = pod
        self._closed = False
        self.runs: dict[str, ContainerRun] | None = None
        name = f"sandbox-kubelet-{pod['metadata']['namespace']}/{pod['metadata']['name']}"
        threading.Thread(target=self._loop, name=name, daemon=True).start()

    def ask(self, pod: dict) -> None:
        with self._cond:
            self._pending = pod
            self._cond.notify()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()

    def _loop(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                pod, self._pending = self._pending, None
            try:
                runs = {
                    c["name"]: self._workloads.container_run(pod, c)
                    for c in pod["spec"].get("containers", [])
                }
            except Exception:
                # A failing workload simulation must not stop this pod's kubelet for good.
                _log.exception("sandbox kubelet failed on pod %s", pod["metadata"]["name"])
                continue
            if runs != self.runs:
                self.runs = runs
                self._wake()


@dataclass
class _Restarts:
    """Bookkeeping for one restarting container: when its current run started, the next restart."""

    started_at: str
    next_restart: float


class Kubelets:
    """All nodes' kubelets; `sync()` is one pass over the bound pods."""

    def __init__(self, control: ControlPlane) -> None:
        self.control = control
        self.cluster = control.cluster
        self._pod_ips: dict[str, int] = {}
        self._restarts: dict[tuple[str, str], _Restarts] = {}
        # (pod uid, fieldPath, reason, message) -> name of the Event that aggregates repeats
        self._events: dict[tuple[str, str, str, str], str] = {}
        self._workers: dict[str, _PodWorker] = {}
        # uid of a deleted pod -> when (time.monotonic()) its containers have stopped
        self._stopping: dict[str, float] = {}

    def close(self) -> None:
        """End the pod workers' threads (the control loop may still be in a pass: copy first)."""
        for worker in list(self._workers.values()):
            worker.close()

    # -- the pass ---------------------------------------------------------------------------

    def sync(self) -> None:
        """Start, update and stop the pods bound to nodes.

        Deleted pods are handled first and never wait for a workload; a live pod's containers
        are reported from its worker's last answer, so no pod's workload can hold up the pass.
        """
        control = self.control
        nodes = {n["metadata"]["name"]: i for i, n in enumerate(control._all(control.r_node))}
        pods = [p for p in control._all(control.r_pod) if p["spec"].get("nodeName")]
        present = {p["metadata"]["uid"] for p in pods}
        self._stopping = {k: v for k, v in self._stopping.items() if k in present}
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                self._stop(pod, pod["spec"]["nodeName"])
        live: set[str] = set()
        conflict: errors.ApiError | None = None
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                continue
            if pod["status"].get("phase") in {"Succeeded", "Failed"}:
                continue
            uid = pod["metadata"]["uid"]
            live.add(uid)
            worker = self._workers.get(uid)
            if worker is None:
                worker = self._workers[uid] = _PodWorker(
                    self.cluster.workloads, pod, self.control.wake
                )
            else:
                worker.ask(pod)
            if worker.runs is None:
                continue  # the pod starts once its workload has answered
            try:
                node = pod["spec"]["nodeName"]
                self._sync_pod(pod, node, nodes.get(node, 0), worker.runs)
            except errors.ApiError as error:
                # A conflict on one pod must not hold back the others (a pod being deleted
                # behind it would never go): carry on, and let the next pass retry this one.
                conflict = conflict or error
            except Exception:
                # A failing workload simulation must not stop the other pods' kubelets.
                _log.exception("sandbox kubelet failed on pod %s", pod["metadata"]["name"])
        for uid in [uid for uid in self._workers if uid not in live]:
            self._workers.pop(uid).close()
        self._restarts = {k: v for k, v in self._restarts.items() if k[0] in live}
        self._events = {k: v for k, v in self._events.items() if k[0] in live}
        if conflict is not None:
            raise conflict  # the control plane retries soon

    def _stop(self, pod: dict, node: str) -> None:
        """Stop a deleted pod's containers; once they have stopped, remove the pod."""
        meta = pod["metadata"]
        uid = meta["uid"]
        clock = time.monotonic()
        stopped = self._stopping.get(uid)
        if stopped is None:
            grace = float(meta.get("deletionGracePeriodSeconds") or 0)
            delay = min(STOP_SECONDS, grace) if grace > 0 else 0.0
            stopped = self._stopping[uid] = clock + delay
            for container in pod["spec"].get("containers", []):
                self.control.event(
                    pod,
                    "Killing",
                    f"Stopping container {container['name']}",
                    "kubelet",
                    host=node,
                    field_path=f"spec.containers{{{container['name']}}}",
                )
            if delay:
                timer = threading.Timer(delay, self.control.wake)
                timer.daemon = True
                timer.start()
        if clock < stopped:
            return
        store, key = self.cluster.store, self.control.r_pod.storage_key
        with store.lock:
            # Only this pod: a pod of the same name created since the pass began stays.
            current = store.get(key, meta["namespace"], meta["name"])
            if current is not None and current["metadata"]["uid"] == uid:
                store.remove(key, meta["namespace"], meta["name"])
        self._stopping.pop(uid, None)

    def _sync_pod(
        self, pod: dict, node: str, node_index: int, runs: dict[str, ContainerRun]
    ) -> None:
        status = copy.deepcopy(pod["status"])
        stamp = now()
        if not status.get("startTime"):
            self._admit(pod, status, node_index, stamp)
        previous = {s["name"]: s for s in status.get("containerStatuses") or []}
        statuses = [
            self._container(
                pod,
                node,
                container,
                previous=previous.get(container["name"]),
                run=runs.get(container["name"]) or ContainerRun(state="waiting"),
                stamp=stamp,
            )
            for container in pod["spec"].get("containers", [])
        ]
        status["containerStatuses"] = statuses
        unready = [s["name"] for s in statuses if not s["ready"]]
        for condition in status.get("conditions") or []:
            if condition["type"] in {"Ready", "ContainersReady"}:
                _set_condition(condition, unready, stamp)
        # Like a real kubelet, a pod whose containers have run stays Running while they crash.
        if status.get("phase") != "Running" and any(
            "running" in s["state"] or s["restartCount"] for s in statuses
        ):
            status["phase"] = "Running"
        if status != pod["status"]:
            pod["status"] = status
            self.cluster.save(self.control.r_pod, pod, status=True)

    def _admit(self, pod: dict, status: dict, node_index: int, stamp: str) -> None:
        """What the kubelet does once: the pod sandbox (IP) and its conditions."""
        node = pod["spec"]["nodeName"]
        serial = self._pod_ips.get(node, 0) + 1
        self._pod_ips[node] = serial
        pod_ip = f"10.244.{node_index}.{serial % 250 + 2}"
        status.update(
            conditions=[
                {"lastProbeTime": None, "lastTransitionTime": stamp, "status": "True", "type": kind}
                for kind in (
                    "PodReadyToStartContainers",
                    "Initialized",
                    "Ready",
                    "ContainersReady",
                    "PodScheduled",
                )
            ],
            hostIP="127.0.0.1",
            hostIPs=[{"ip": "127.0.0.1"}],
            observedGeneration=pod["metadata"].get("generation", 1),
            phase="Pending",
            podIP=pod_ip,
            podIPs=[{"ip": pod_ip}],
            startTime=stamp,
        )

    # -- containers -------------------------------------------------------------------------

    def _container(
        self,
        pod: dict,
        node: str,
        container: dict,
        *,
        previous: dict | None,
        run: ContainerRun,
        stamp: str,
    ) -> dict:
        """The containerStatuses entry for `container` as `run` describes it now."""
        name = container["name"]
        image = container.get("image", "")
        full = qualified_image(image)
        if previous is None:
            previous = {
                "containerID": f"containerd://{self.cluster.ids.hex(64)}",
                "image": full,
                "imageID": f"{full.rsplit(':', 1)[0]}@sha256:{self.cluster.ids.hex(64)}",
                "lastState": {},
                "name": name,
                "ready": False,
                "restartCount": 0,
                "started": False,
                "state": {"waiting": {"reason": "ContainerCreating"}},
            }
        status = copy.deepcopy(previous)
        was = next(iter(previous["state"]), "")
        was_reason = previous["state"].get("waiting", {}).get("reason", "")
        field_path = f"spec.containers{{{name}}}"

        def tell(reason: str, message: str, kind: str = "Normal") -> None:
            self._event(pod, node, field_path, reason=reason, message=message, kind=kind)

        first_start = previous["restartCount"] == 0 and was_reason == "ContainerCreating"
        if first_start and (run.state == "running" or run.restarting):
            tell("Pulled", f'Container image "{image}" {IMAGE_PRESENT}')
            tell("Created", "Container created")
            tell("Started", "Container started")
        restarted = False
        if run.restarting:
            restarted = self._restart(pod, status, run, stamp=stamp, tell=tell, image=image)
        else:
            self._restarts.pop((pod["metadata"]["uid"], name), None)

        if run.state == "running":
            started = previous["state"].get("running", {}).get("startedAt")
            started = stamp if restarted or not started else started
            status["state"] = {"running": {"startedAt": started}}
        elif run.state == "terminated":
            ended = previous["state"].get("terminated") or {
                "containerID": status["containerID"],
                "exitCode": int(str((run.last_termination or {}).get("exitCode", 1))),
                "finishedAt": stamp,
                "reason": run.reason or "Error",
                "startedAt": stamp,
            }
            status["state"] = {"terminated": ended}
        else:
            reason = run.reason or "ContainerCreating"
            message = run.message or self._waiting_message(pod, status, reason, image)
            waiting = {"reason": reason, **({"message": message} if message else {})}
            status["state"] = {"waiting": waiting}
            if reason != was_reason or was != "waiting":
                self._waiting_events(reason, message, image, tell)
        status["ready"] = run.ready and run.state == "running"
        status["started"] = run.state == "running"
        return status

    def _restart(
        self,
        pod: dict,
        status: dict,
        run: ContainerRun,
        *,
        stamp: str,
        tell: Tell,
        image: str,
    ) -> bool:
        """Count a restart when one is due (the first at once), with its termination."""
        key = (pod["metadata"]["uid"], status["name"])
        clock = time.monotonic()
        track = self._restarts.get(key)
        if track is None:
            running = status["state"].get("running", {}).get("startedAt")
            track = _Restarts(started_at=running or stamp, next_restart=clock)
            self._restarts[key] = track
        if clock < track.next_restart:
            return False
        rate = run.restarts_per_minute or DEFAULT_RESTARTS_PER_MINUTE
        track.next_restart = clock + 60.0 / rate
        last = dict(run.last_termination or {})
        terminated: dict = {
            "containerID": status["containerID"],
            "exitCode": int(str(last.pop("exitCode", 1))),
            "finishedAt": stamp,
            "reason": str(last.pop("reason", "Error")),
            "startedAt": track.started_at,
        }
        terminated.update({k: v for k, v in last.items() if k in {"signal", "message"}})
        status["lastState"] = {"terminated": terminated}
        status["restartCount"] += 1
        status["containerID"] = f"containerd://{self.cluster.ids.hex(64)}"
        track.started_at = stamp
        name = status["name"]
        tell(
            "BackOff",
            f"Back-off restarting failed container {name} in pod {pod_ref(pod)}",
            "Warning",
        )
        tell("Pulled", f'Container image "{image}" {IMAGE_PRESENT}')
        tell("Created", "Container created")
        tell("Started", "Container started")
        return True

    @staticmethod
    def _waiting_message(pod: dict, status: dict, reason: str, image: str) -> str:
        """The kubelet's own message for a waiting reason, when the workload gives none."""
        full = qualified_image(image)
        if reason == "CrashLoopBackOff":
            delay = min(BACKOFF_START * 2 ** max(status["restartCount"] - 1, 0), BACKOFF_MAX)
            return (
                f"back-off {go_duration(delay)} restarting failed container={status['name']} "
                f"pod={pod_ref(pod)}"
            )
        if reason == "ErrImagePull":
            return (
                f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
                f'failed to resolve reference "{full}": {full}: not found'
            )
        if reason == "ImagePullBackOff":
            return f'Back-off pulling image "{image}"'
        return ""

    @staticmethod
    def _waiting_events(reason: str, message: str, image: str, tell: Tell) -> None:
        """The events a kubelet records when a container starts waiting for `reason`."""
        if reason == "ErrImagePull":
            tell("Pulling", f'Pulling image "{image}"')
            tell("Failed", f'Failed to pull image "{image}": {message}', "Warning")
            tell("Failed", "Error: ErrImagePull", "Warning")
        elif reason == "ImagePullBackOff":
            tell("BackOff", f'Back-off pulling image "{image}"')
            tell("Failed", "Error: ImagePullBackOff", "Warning")

    # -- events -----------------------------------------------------------------------------

    def _event(
        self, pod: dict, node: str, field_path: str, *, reason: str, message: str, kind: str
    ) -> None:
        """Record an event, or count a repeat on the one already recorded."""
        key = (pod["metadata"]["uid"], field_path, reason, message)
        control = self.control
        name = self._events.get(key)
        if name is not None:
            existing = self.cluster.store.get(
                control.r_event.storage_key, pod["metadata"]["namespace"], name
            )
            if existing is not None:
                existing["count"] = existing.get("count", 1) + 1
                existing["lastTimestamp"] = now()
                try:
                    self.cluster.save(control.r_event, existing)
                except errors.ApiError:
                    pass  # the namespace is going away, and the event with it
                else:
                    return
        created = control.event(
            pod, reason, message, "kubelet", host=node, field_path=field_path, kind=kind
        )
        if created is not None:
            self._events[key] = created


def _set_condition(condition: dict, unready: list[str], stamp: str) -> None:
    """Ready/ContainersReady as the kubelet reports them, with the unready containers named."""
    wanted = "False" if unready else "True"
    if condition["status"] != wanted:
        condition["lastTransitionTime"] = stamp
    condition["status"] = wanted
    if unready:
        condition["reason"] = "ContainersNotReady"
        condition["message"] = f"containers with unready status: [{' '.join(unready)}]"
    else:
        condition.pop("reason", None)
        condition.pop("message", None)
