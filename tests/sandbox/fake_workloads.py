"""A `Workloads` for the tests: predictable logs, exec answers, HTTP and usage, and faults by label.

Pods choose their behaviour with labels:

* ``sandbox-test/fault: oom``: containers crash-loop, OOMKilled with exit code 137
* ``sandbox-test/fault: image``: containers cannot pull their image (ErrImagePull)
* ``sandbox-test/fault: unready``: containers run but are not ready
"""

from __future__ import annotations

import json
import shlex

from sre_runbooks_sandbox.behaviour import ContainerRun, ExecResult, HTTPAnswer, Usage

FAULT = "sandbox-test/fault"
DF_OUTPUT = (
    "Filesystem      Size  Used Avail Use% Mounted on\n"
    "overlay         100G   42G   58G  42% /\n"
    "/dev/sda1       100G   42G   58G  42% /data\n"
)
CPU_CORES = 0.012
MEMORY_BYTES = 64 * 1024 * 1024


def _fault(pod: dict) -> str:
    return (pod["metadata"].get("labels") or {}).get(FAULT, "")


class FakeWorkloads:
    """Deterministic answers, so the tests can assert on exact output."""

    def container_run(self, pod: dict, container: dict) -> ContainerRun:
        fault = _fault(pod)
        if fault == "oom":
            return ContainerRun(
                state="waiting",
                reason="CrashLoopBackOff",
                ready=False,
                restarting=True,
                restarts_per_minute=60.0,
                last_termination={"reason": "OOMKilled", "exitCode": 137, "signal": 9},
            )
        if fault == "image":
            return ContainerRun(state="waiting", reason="ErrImagePull", ready=False)
        if fault == "unready":
            return ContainerRun(ready=False)
        return ContainerRun()

    def logs(self, pod: dict, container: str, *, previous: bool = False) -> list[str]:
        name = pod["metadata"]["name"]
        if previous:
            return [f"{container} in {name}: allocating", f"{container} in {name}: out of memory"]
        return [f"{container} in {name}: line {i}" for i in range(1, 6)]

    def exec(self, pod: dict, container: str, command: list[str]) -> ExecResult:
        if command == ["df", "-h"]:
            return ExecResult(stdout=DF_OUTPUT)
        if command[:2] == ["sh", "-c"] and command[2:3] and command[2].startswith("exit "):
            return ExecResult(exit_code=int(command[2].split()[1]))
        if command[:1] == ["cat"]:
            return ExecResult(stderr=f"cat: {command[1]}: No such file or directory\n", exit_code=1)
        return ExecResult(stdout=shlex.join(command) + "\n")

    def http(
        self, pod: dict, port: str, method: str, path: str, *, headers: dict[str, str], body: bytes
    ) -> HTTPAnswer:
        if path.split("?", maxsplit=1)[0] == "/health":
            answer = {"status": "ok", "pod": pod["metadata"]["name"], "port": port}
            return HTTPAnswer(
                body=json.dumps(answer).encode(), headers={"Content-Type": "application/json"}
            )
        return HTTPAnswer(status=404, body=b"404 page not found\n")

    def usage(self, pod: dict) -> dict[str, Usage]:
        return {
            c["name"]: Usage(cpu=CPU_CORES, memory=MEMORY_BYTES)
            for c in pod["spec"].get("containers", [])
        }
