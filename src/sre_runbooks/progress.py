"""Live progress of a run from ansible-runner's events, written to a stream (stderr).

Each task is shown when it starts and when it ends on a host, with its status and duration; the
remediation phases add their one-line result, and each mitigation (a loop item) gets its own
line. Argument validation and role includes, which only lead to the tasks, are not shown.
Retried tasks (``until:``/``retries:``) show a waiting line with the attempt: on a terminal one
line updated in place with a spinner, otherwise the first attempt and every tenth.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

SPINNER = "|/-\\"
RETRY_EVERY = 10

_END_EVENTS = {
    "runner_on_ok": "ok",
    "runner_on_failed": "failed",
    "runner_on_skipped": "skipped",
    "runner_on_unreachable": "unreachable",
}


_ITEM_EVENTS = {"runner_item_on_ok": "ok", "runner_item_on_failed": "failed"}
# Tasks that only lead to the work: shown only when they fail.
_PLUMBING = frozenset(
    [
        "validate_argument_spec",
        "ansible.builtin.validate_argument_spec",
        "include_role",
        "ansible.builtin.include_role",
        "include_tasks",
        "ansible.builtin.include_tasks",
    ]
)
# Actions whose `msg` is the phase's one-line result.
_PHASES = ("sre.runbooks.remediation_assess", "sre.runbooks.remediation_verify")


def _task_name(data: dict[str, Any]) -> str:
    task = str(data.get("task") or data.get("task_action") or "task")
    role = data.get("role")
    return f"{role} : {task}" if role and not task.startswith(f"{role} : ") else task


def _duration(data: dict[str, Any], started: float | None, now: float) -> float:
    value = data.get("duration")
    if isinstance(value, int | float):
        return float(value)
    return now - started if started is not None else 0.0


class Progress:
    """An ``event_handler`` for ``ansible_runner.run()`` that prints progress to ``stream``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.tty = stream.isatty() if tty is None else tty
        self.clock = clock
        self._started: dict[str, float] = {}
        self._open_line = False
        self._frame = 0
        self._waiting: set[str] = set()

    def _write(self, text: str, *, transient: bool = False) -> None:
        if self.tty and self._open_line:
            self.stream.write("\r\x1b[K")
        elif self._open_line:
            self.stream.write("\n")
        self._open_line = transient
        self.stream.write(text if transient else text + "\n")
        self.stream.flush()

    def __call__(self, event: dict[str, Any]) -> bool:
        self.handle(event)
        return True

    def handle(self, event: dict[str, Any]) -> None:
        kind = event.get("event", "")
        data = event.get("event_data") or {}
        now = self.clock()
        if kind == "playbook_on_play_start":
            self._write(f"play: {data.get('play') or data.get('name') or ''}".rstrip())
        elif kind == "playbook_on_task_start":
            self._started[str(data.get("task_uuid"))] = now
            if data.get("task_action") in _PLUMBING:
                return
            text = f"  ...      {_task_name(data)}"
            self._write(text, transient=self.tty)
        elif kind in _END_EVENTS:
            self._task_end(kind, data, now)
        elif kind in _ITEM_EVENTS:
            self._item_end(kind, data)
        elif kind == "runner_retry":
            self._retry(data)
        elif kind == "playbook_on_stats":
            self.close()

    def close(self) -> None:
        """End a line left open by a waiting task (on a terminal: erase it)."""
        if self._open_line:
            self.stream.write("\r\x1b[K" if self.tty else "\n")
            self.stream.flush()
            self._open_line = False

    def _item_end(self, kind: str, data: dict[str, Any]) -> None:
        result = data.get("res") or {}
        if not isinstance(result, dict):
            return
        status = _ITEM_EVENTS[kind]
        if status == "ok" and result.get("changed"):
            status = "changed"
        label = result.get("_ansible_item_label", result.get("item", ""))
        if isinstance(label, dict):
            label = label.get("action") or label.get("name") or ""
        text = f"    {status:<8} {label}"
        if result.get("msg"):
            text += f": {str(result['msg']).splitlines()[0][:160]}"
        self._write(text)

    def _task_end(self, kind: str, data: dict[str, Any], now: float) -> None:
        status = _END_EVENTS[kind]
        result = data.get("res") or {}
        if status == "ok" and data.get("task_action") in _PLUMBING:
            return
        if status == "ok" and isinstance(result, dict) and result.get("changed"):
            status = "changed"
        if status == "failed" and data.get("ignore_errors"):
            status = "ignored"
        seconds = _duration(data, self._started.get(str(data.get("task_uuid"))), now)
        host = data.get("host")
        suffix = f"  [{host}]" if host else ""
        line = f"  {status:<8} {_task_name(data)}  {seconds:.1f}s{suffix}"
        # A failure says why; a remediation phase says what it found or did.
        explained = status == "failed" or data.get("task_action") in _PHASES
        if explained and isinstance(result, dict) and result.get("msg"):
            line += f"\n           {str(result['msg']).splitlines()[0][:200]}"
        self._write(line)

    def _retry(self, data: dict[str, Any]) -> None:
        result = data.get("res") or {}
        attempt = int(result.get("attempts", 0) or 0) if isinstance(result, dict) else 0
        total = int(result.get("retries", 0) or 0) if isinstance(result, dict) else 0
        text = f"waiting  {_task_name(data)}  attempt {attempt}/{total}"
        if self.tty:
            self._frame += 1
            self._write(f"  {SPINNER[self._frame % len(SPINNER)]} {text}", transient=True)
        else:
            task = str(data.get("task_uuid"))
            if task not in self._waiting or attempt % RETRY_EVERY == 0:
                self._write(f"  {text}")
            self._waiting.add(task)
