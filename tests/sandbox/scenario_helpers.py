"""Helpers for the sandbox scenario tests: the CLI, kubectl and Prometheus' alert states."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from sre_runbooks_sandbox.workloads.manifests import BOLT_CONFIG, bolt_config_yaml

DEADLINE = 60.0


def runbook(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the `runbook` command line in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "sre_runbooks", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def kubectl(kubeconfig: str, *args: str) -> subprocess.CompletedProcess[str]:
    kubectl_path = shutil.which("kubectl")
    assert kubectl_path, "kubectl is not installed"
    return subprocess.run(
        [kubectl_path, "--kubeconfig", kubeconfig, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def alert_states(prometheus_url: str, alert: str, system: str) -> set[str]:
    """States (pending, firing) of the alert's instances for that system right now."""
    with urllib.request.urlopen(f"{prometheus_url}/api/v1/alerts", timeout=5) as response:
        alerts = json.load(response)["data"]["alerts"]
    return {
        a["state"]
        for a in alerts
        if a["labels"].get("alertname") == alert and a["labels"].get("system") == system
    }


def wait_until(check: Any, timeout: float = DEADLINE) -> bool:
    """Poll ``check`` every half second until it is true or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.5)
    return bool(check())


def bolt_cure(setting: str) -> list[list[str]]:
    """Put the seed's value back into bolt-app-config and restart bolt-app to read it."""
    patch = json.dumps({"data": {"config.yaml": bolt_config_yaml(BOLT_CONFIG)}})
    del setting  # the whole config.yaml is written back; the setting names what changed
    return [
        [
            "patch",
            "configmap",
            "bolt-app-config",
            "-n",
            "bolt-logging",
            "--type",
            "merge",
            "-p",
            patch,
        ],
        ["rollout", "restart", "deployment/bolt-app", "-n", "bolt-logging"],
    ]


RESTART_GATEWAY = [["rollout", "restart", "deployment/api-gateway", "-n", "ai-coding-bench"]]

# How an operator cures each scenario: kubectl argument lists (without --kubeconfig).
CURES: dict[str, list[list[str]]] = {
    "HighErrorRate/nimify": [["rollout", "undo", "deployment/nimify-api", "-n", "nimify-system"]],
    "ServiceDown/nimify": [
        ["scale", "deployment", "nimify-api", "--replicas=3", "-n", "nimify-system"]
    ],
    "PodRestart/nimify": [
        [
            "patch",
            "deployment",
            "nimify-api",
            "-n",
            "nimify-system",
            "-p",
            json.dumps(
                {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {
                                        "name": "nimify-api",
                                        "resources": {"limits": {"memory": "4Gi"}},
                                    }
                                ]
                            }
                        }
                    }
                }
            ),
        ]
    ],
    "HighMemoryUsage/nimify": [
        ["rollout", "restart", "deployment/nimify-api", "-n", "nimify-system"]
    ],
    "GPUUnavailable/nimify": [
        ["delete", "pods", "-n", "kube-system", "-l", "name=nvidia-device-plugin-ds"]
    ],
    "HighDiskUsage/nimify": [
        [
            "exec",
            "deploy/nimify-api",
            "-n",
            "nimify-system",
            "--",
            "find",
            "/var/log",
            "-name",
            "*.log",
            "-mtime",
            "+7",
            "-delete",
        ]
    ],
    "DatabaseDown/nimify": [["delete", "pod", "postgres-0", "-n", "database"]],
    "HighLatency/nimify": [
        ["scale", "deployment", "nimify-api", "--replicas=5", "-n", "nimify-system"]
    ],
    "ModelLoadFailure/nimify": [
        [
            "exec",
            "deploy/triton-server",
            "-n",
            "triton-system",
            "--",
            "curl",
            "-X",
            "POST",
            "localhost:8000/v2/repository/models/resnet50/load",
        ]
    ],
    "SlowQueries/nimify": [
        [
            "exec",
            "postgres-0",
            "-n",
            "database",
            "--",
            "psql",
            "-U",
            "nimify",
            "-c",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE state = 'active' "
            "AND now() - query_start > interval '30 seconds'",
        ]
    ],
    "CacheHitRateLow/nimify": [
        [
            "exec",
            "deploy/redis",
            "-n",
            "nimify-system",
            "--",
            "redis-cli",
            "CONFIG",
            "SET",
            "maxmemory",
            "2gb",
        ]
    ],
    "HighLatency/api-optimizer": [
        ["scale", "deployment", "api-optimizer", "--replicas=10", "-n", "api-optimizer"]
    ],
    "HighErrorRate/api-optimizer": [
        [
            "patch",
            "service",
            "api-optimizer",
            "-n",
            "api-optimizer",
            "--type=json",
            '-p=[{"op": "replace", "path": "/spec/selector/version", "value": "stable"}]',
        ]
    ],
    "LowCacheHitRatio/api-optimizer": [
        [
            "patch",
            "configmap",
            "api-optimizer-config",
            "-n",
            "api-optimizer",
            "--type",
            "merge",
            "-p",
            '{"data":{"cache_ttl_seconds":"3600"}}',
        ]
    ],
    "ServiceLatencyHigh/ai-coding-bench": RESTART_GATEWAY,
    "HighErrorRate/service-template": [
        ["rollout", "undo", "deployment/api-gateway", "-n", "ai-coding-bench"]
    ],
    "HighLatency/service-template": RESTART_GATEWAY,
    "ServiceDown/service-template": RESTART_GATEWAY,
    "HighMemoryUsage/service-template": RESTART_GATEWAY,
    "BoltLoggingLatencyHigh/bolt": bolt_cure("sink_mode"),
    "BoltLoggingLatencyWarning/bolt": bolt_cure("sink_mode"),
    "BoltUnexpectedAllocations/bolt": bolt_cure("allocator"),
    "BoltEventPoolExhaustion/bolt": bolt_cure("event_pool_size"),
    "BoltEventPoolWarning/bolt": bolt_cure("event_pool_size"),
    "BoltLoggingRateCritical/bolt": bolt_cure("log_level"),
    "BoltHandlerLatencyHigh/bolt": bolt_cure("file_sink_fsync"),
    "BoltMemoryUsageHigh/bolt": bolt_cure("ring_buffer_mb"),
}


def state_pids(state_dir: Path) -> dict[str, int]:
    state = json.loads((state_dir / "state.json").read_text())
    return {name: int(state[name]["pid"]) for name in ("simulator", "prometheus", "alertmanager")}


def sandbox_up(state_dir: Path) -> dict[str, Any]:
    """`runbook sandbox up --json` in ``state_dir``; the state it prints."""
    result = runbook("sandbox", "up", "--state-dir", str(state_dir), "--json")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))
