"""Answers to the seeds' diagnostic and clean-up commands run with ``kubectl exec``.

Commands arrive as argv lists (never a shell string). Only the commands the runbooks use are
known; anything else answers exit code 127, as a shell in the container would.
"""

from __future__ import annotations

import fnmatch
import re
import time
from typing import TYPE_CHECKING

from sre_runbooks_sandbox.behaviour import ExecResult

from .manifests import GIB, GPUS_PER_NODE

if TYPE_CHECKING:
    from .model import SandboxModel


def _human(size: float) -> str:
    for unit in ("", "K", "M", "G", "T"):
        if size < 1024 or unit == "T":
            return f"{size:.0f}{unit}" if unit == "" else f"{size:.1f}{unit}"
        size /= 1024
    return str(size)


def _not_found(name: str) -> ExecResult:
    return ExecResult(stderr=f"sh: 1: {name}: command not found\n", exit_code=127)


def run_exec(model: SandboxModel, pod: dict, container: str, command: list[str]) -> ExecResult:
    """Run ``command`` in ``container`` of ``pod`` against the model (caller holds the lock)."""
    if not command:
        return ExecResult(stderr="no command\n", exit_code=1)
    # `sh -c "..."` is how people pass pipelines; the simulation reads its first command only.
    if command[0] in {"sh", "bash", "/bin/sh", "/bin/bash"} and command[1:2] == ["-c"]:
        command = command[2].split("|")[0].split()
    name = command[0].rsplit("/", 1)[-1]
    handler = _HANDLERS.get(name)
    if handler is None:
        return _not_found(name)
    return handler(model, pod, command)


def _df(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    size, used = model.DISK_SIZE, model.disk_used()
    rows = [
        ("overlay", 50 * GIB, 18 * GIB, "/"),
        ("nfs:/nimify-data", size, used, "/data"),
        ("tmpfs", 64 * 1024**2, 0, "/dev"),
    ]
    lines = ["Filesystem        Size  Used Avail Use% Mounted on"]
    for device, total, taken, mount in rows:
        pct = round(100 * taken / total)
        lines.append(
            f"{device:<17} {_human(total):>5} {_human(taken):>5} {_human(total - taken):>5} "
            f"{pct:>3}% {mount}"
        )
    return ExecResult(stdout="\n".join(lines) + "\n")


def _du(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    paths = [a for a in argv[1:] if not a.startswith("-")] or ["."]
    lines = []
    for path in paths:
        prefix = path.rstrip("*").rstrip("/")
        total = sum(f.size for f in model.files if f.path.startswith(prefix + "/"))
        lines.append(f"{_human(total)}\t{prefix or '/'}")
    return ExecResult(stdout="\n".join(lines) + "\n")


def _find(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    """find ROOT... [-type f] [-name GLOB [-o -name GLOB]] [-mtime +N] [-size +NM] [-delete]."""
    roots, i = [], 1
    while i < len(argv) and not argv[i].startswith("-"):
        roots.append(argv[i].rstrip("/"))
        i += 1
    names: list[str] = []
    min_age = None
    min_size = 0.0
    delete = False
    while i < len(argv):
        arg = argv[i]
        if arg == "-name" and i + 1 < len(argv):
            names.append(argv[i + 1])
            i += 1
        elif arg == "-mtime" and i + 1 < len(argv):
            min_age = float(argv[i + 1].lstrip("+"))
            i += 1
        elif arg == "-size" and i + 1 < len(argv):
            match = re.fullmatch(r"\+?(\d+)([kMG]?)", argv[i + 1])
            if match:
                factor = {"": 512, "k": 1024, "M": 1024**2, "G": GIB}[match.group(2)]
                min_size = int(match.group(1)) * factor
            i += 1
        elif arg == "-type" and i + 1 < len(argv):
            i += 1
        elif arg == "-delete":
            delete = True
        elif arg == "-exec":
            break  # the `-exec ls -lh {} \;` form lists what matched; the listing is the same
        i += 1

    def matches(path: str, size: int, age: float) -> bool:
        base = path.rsplit("/", 1)[-1]
        return (
            any(path.startswith(root + "/") for root in roots or [""])
            and (not names or any(fnmatch.fnmatch(base, n) for n in names))
            and (min_age is None or age > min_age)
            and size > min_size
        )

    found = [f for f in model.files if matches(f.path, f.size, f.age_days)]
    if delete:
        model.files = [f for f in model.files if f not in found]
        return ExecResult()
    return ExecResult(stdout="".join(f"{f.path}\n" for f in found))


def _cat(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    out = []
    for path in argv[1:]:
        if path == "/proc/meminfo":
            spec = pod["spec"]["containers"][0]
            total = model.memory_limit(spec) or 2 * GIB
            used = model.memory_usage(pod, spec)
            out.append(
                f"MemTotal: {int(total) // 1024:>12} kB\n"
                f"MemFree: {int(total - used) // 1024:>13} kB\n"
                f"MemAvailable: {int(total - used) // 1024:>8} kB\n"
            )
        elif path.startswith("/models/") and path.endswith("config.pbtxt"):
            model_name = path.split("/")[2]
            if model_name not in model.triton_models:
                return ExecResult(stderr=f"cat: {path}: No such file or directory\n", exit_code=1)
            out.append(
                f'name: "{model_name}"\nplatform: "tensorrt_plan"\nmax_batch_size: 8\n'
                'input [ { name: "input" data_type: TYPE_FP32 dims: [ 3, 224, 224 ] } ]\n'
            )
        else:
            return ExecResult(stderr=f"cat: {path}: No such file or directory\n", exit_code=1)
    return ExecResult(stdout="".join(out))


def _ls(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    paths = [a for a in argv[1:] if not a.startswith("-")] or ["."]
    if any(p.rstrip("/") == "/models" for p in paths):
        lines = ["total 0"] + [
            f"drwxr-xr-x 3 triton triton 4096 Jan  1 00:00 {name}" for name in model.triton_models
        ]
        return ExecResult(stdout="\n".join(lines) + "\n")
    return ExecResult(stdout="")


def _nvidia_smi(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    if model.fault("gpu-lost"):
        return ExecResult(
            stdout="No devices were found\n",
            exit_code=6,
        )
    rows = [
        f"|   {i}  NVIDIA A100-SXM4-40GB   On  | 00000000:0{i}:00.0 Off |"
        "   0% 34C  P0  60W / 400W |"
        for i in range(GPUS_PER_NODE)
    ]
    return ExecResult(stdout="NVIDIA-SMI 550.90.07   Driver Version: 550.90.07\n" + "\n".join(rows))


def _psql(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    if model.stale("postgres-down", pod):
        return ExecResult(
            stderr="psql: error: connection to server on socket "
            '"/var/run/postgresql/.s.PGSQL.5432" '
            "failed: No such file or directory\n",
            exit_code=2,
        )
    sql = " ".join(argv[argv.index("-c") + 1 :]) if "-c" in argv else ""
    lowered = sql.lower()
    now = time.time()
    if "pg_terminate_backend" in lowered:
        pids = [int(p) for p in re.findall(r"pg_terminate_backend\s*\(\s*(\d+)\s*\)", lowered)]
        if not pids:
            # The usual form selects active sessions older than some interval; our model
            # terminates every active session running longer than 30 seconds.
            pids = [b.pid for b in model.backends if b.state == "active" and now - b.started > 30]
        killed = [b for b in model.backends if b.pid in pids]
        model.backends = [b for b in model.backends if b.pid not in pids]
        rows = "".join(" t\n" for _ in killed)
        return ExecResult(
            stdout=f" pg_terminate_backend \n----------------------\n{rows}({len(killed)} rows)\n"
        )
    if "pg_stat_activity" in lowered:
        lines = [" pid  | usename | state  | duration | query", "------+---------+--------+----"]
        for b in model.backends:
            lines.append(f" {b.pid} | {b.user}  | {b.state} | {now - b.started:8.1f}s | {b.query}")
        lines.append(f"({len(model.backends)} rows)")
        return ExecResult(stdout="\n".join(lines) + "\n")
    if "pg_stat_statements" in lowered:
        lines = [" query | mean_time | calls", "-------+-----------+------"]
        for b in model.backends:
            lines.append(f" {b.query} | {(now - b.started) * 1000:.1f} | 1")
        lines.append(" SELECT id, status FROM jobs WHERE id = $1 | 0.4 | 182733")
        return ExecResult(stdout="\n".join(lines) + "\n")
    if lowered.strip().startswith("select 1"):
        return ExecResult(stdout=" ?column? \n----------\n        1\n(1 row)\n")
    return ExecResult(stdout="")


def _redis_cli(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    words = [a for a in argv[1:] if not a.startswith("-")]
    upper = [w.upper() for w in words]
    if upper[:1] == ["INFO"]:
        rate = model.redis_hit_rate()
        hits = int(1_000_000 * rate)
        return ExecResult(
            stdout=f"# Stats\r\nkeyspace_hits:{hits}\r\nkeyspace_misses:{1_000_000 - hits}\r\n"
            f"evicted_keys:{0 if rate > 0.9 else 48211}\r\n"
        )
    if upper[:2] == ["CONFIG", "GET"] and len(words) > 2:
        key = words[2].lower()
        return ExecResult(stdout=f"{key}\n{model.redis_config.get(key, '')}\n")
    if upper[:2] == ["CONFIG", "SET"] and len(words) > 3:
        model.redis_config[words[2].lower()] = words[3]
        return ExecResult(stdout="OK\n")
    if upper[:1] == ["PING"]:
        return ExecResult(stdout="PONG\n")
    return ExecResult(stdout="(error) ERR unknown command\n")


def _curl(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    from .http_answers import answer  # noqa: PLC0415  (http_answers imports this module's peers)

    method = "GET"
    url = ""
    for i, arg in enumerate(argv[1:], start=1):
        if arg == "-X" and i + 1 < len(argv):
            method = argv[i + 1]
        elif arg.startswith(("http://", "localhost", "127.0.0.1")):
            url = arg
    match = re.match(r"(?:http://)?[^/:]+(?::(\d+))?(/.*)?$", url)
    if not match:
        return ExecResult(stderr="curl: (3) URL rejected: Bad hostname\n", exit_code=3)
    reply = answer(model, pod, match.group(1) or "80", method, match.group(2) or "/")
    return ExecResult(stdout=reply.body.decode(errors="replace"))


def _file(model: SandboxModel, pod: dict, argv: list[str]) -> ExecResult:
    return ExecResult(stdout="".join(f"{p}: data\n" for p in argv[1:]))


_HANDLERS = {
    "df": _df,
    "du": _du,
    "find": _find,
    "cat": _cat,
    "ls": _ls,
    "nvidia-smi": _nvidia_smi,
    "psql": _psql,
    "redis-cli": _redis_cli,
    "curl": _curl,
    "file": _file,
    "echo": lambda m, p, a: ExecResult(stdout=" ".join(a[1:]) + "\n"),
    "hostname": lambda m, p, a: ExecResult(stdout=p["metadata"]["name"] + "\n"),
}
