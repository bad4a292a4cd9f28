"""``runbook monitoring up|down|status``: the harness as long-lived background processes.

State (PIDs, ports, URLs) lives in one JSON file in the state directory, so ``down`` stops
exactly the processes ``up`` started and ``up`` run twice reuses what already runs.
"""

import json
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sre_runbooks.monitoring.servers import (
    AlertmanagerServer,
    PrometheusServer,
    ServerError,
    get_json,
    pid_alive,
    stop_pid,
)

STATE_FILE = "state.json"


def default_state_dir() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "sre-runbooks" / "monitoring"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:  # noqa: S310  (loopback)
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def _load(state_dir: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((state_dir / STATE_FILE).read_text()))
    except (OSError, ValueError):
        return {}


def status(state_dir: Path) -> dict[str, Any]:
    """What runs: per server its URL, PID and whether it is alive and ready."""
    state = _load(state_dir)
    for server in ("prometheus", "alertmanager"):
        entry = state.get(server)
        if entry:
            alive = pid_alive(int(entry["pid"]), entry["workdir"], entry.get("started"))
            entry["running"] = alive and _ready(entry["url"])
    state["running"] = bool(state) and all(
        state.get(s, {}).get("running") for s in ("prometheus", "alertmanager")
    )
    return state


def up(
    state_dir: Path,
    rule_files: Iterable[str] = (),
    scrape_targets: Iterable[str] = (),
    scrape_interval: str = "1s",
) -> dict[str, Any]:
    """Start Alertmanager and Prometheus (wired to it) unless both already run."""
    current = status(state_dir)
    if current["running"]:
        return current
    down(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    scrape_configs = []
    for target in scrape_targets:
        job, _, address = target.rpartition("=")
        scrape_configs.append(
            {"job_name": job or "target", "static_configs": [{"targets": [address]}]}
        )
    alertmanager = AlertmanagerServer(state_dir / "alertmanager").start()
    try:
        prometheus = PrometheusServer(
            state_dir / "prometheus",
            rule_files=rule_files,
            scrape_configs=scrape_configs,
            alertmanager_urls=[alertmanager.url],
            scrape_interval=scrape_interval,
            evaluation_interval=scrape_interval,
        ).start()
    except Exception:
        alertmanager.stop()
        raise
    state = {"prometheus": prometheus.state(), "alertmanager": alertmanager.state()}
    prometheus.detach()
    alertmanager.detach()
    (state_dir / STATE_FILE).write_text(json.dumps(state, indent=2))
    return status(state_dir)


def down(state_dir: Path) -> list[str]:
    """Stop the processes recorded in the state directory; return the names stopped."""
    state = _load(state_dir)
    stopped = [
        name
        for name in ("prometheus", "alertmanager")
        if name in state
        and stop_pid(
            int(state[name]["pid"]), state[name]["workdir"], started=state[name].get("started")
        )
    ]
    if state_dir.is_dir():
        shutil.rmtree(state_dir)
    return stopped


def _duration(seconds: float) -> str:
    """Prometheus' own notation: 90 -> 1m30s, 300 -> 5m, 0 -> 0s."""
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (rest, "s")) if n)
    return text or "0s"


def alert_rules(state_dir: Path) -> list[dict[str, Any]]:
    """Every alerting rule the running Prometheus evaluates, with its state and labels."""
    state = status(state_dir)
    if not state.get("prometheus", {}).get("running"):
        raise ServerError(f"Prometheus is not running (state directory {state_dir})")
    groups = get_json(f"{state['prometheus']['url']}/api/v1/rules", {"type": "alert"})
    return [
        {
            "alert": rule["name"],
            "state": rule["state"],
            "for": _duration(rule.get("duration", 0)),
            "file": Path(group["file"]).name,
            **{k: rule.get("labels", {}).get(k, "") for k in ("severity", "system", "runbook")},
        }
        for group in groups["data"]["groups"]
        for rule in group["rules"]
    ]
