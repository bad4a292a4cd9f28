"""`runbook run` end to end on the sandbox: the real launcher, ansible-runner, remediate.yml and
the alert role, checked with kubectl and Prometheus.

HighErrorRate is the alert: its fault is a real rollout and its cure a rollback, so every run
that mitigates adds exactly one revision and one Event from sre.runbooks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from scenario_helpers import alert_states, kubectl, runbook, wait_until

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.integration,
    pytest.mark.skipif(
        "SRE_RUNBOOKS_TEST_KUBECONFIG" in os.environ,
        reason="the runs need the sandbox's faults",
    ),
]

FAST = ["-e", "sre_runbooks_verify_interval=2", "-e", "sre_runbooks_chart_window=2m"]


def run(
    sandbox: dict[str, Any], artifacts: Path, *args: str, stdin: str | None = None
) -> tuple[int, Any]:
    """`runbook run ... --json` against the sandbox; (exit code, decoded JSON)."""
    inventory = str(Path(sandbox["state_dir_path"]) / "inventory")
    common = ["--inventory", inventory, "--json", "--artifacts-dir", str(artifacts), *FAST]
    done = subprocess.run(
        [sys.executable, "-m", "sre_runbooks", "run", *args, *common],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=900,
        check=False,
    )
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        return done.returncode, {"stdout": done.stdout, "stderr": done.stderr}


def _revision(sandbox: dict[str, Any]) -> int:
    out = kubectl(
        sandbox["kubeconfig"], "get", "deploy", "nimify-api", "-n", "nimify-system", "-o", "json"
    ).stdout
    return int(json.loads(out)["metadata"]["annotations"]["deployment.kubernetes.io/revision"])


def _our_events(sandbox: dict[str, Any]) -> list[dict[str, Any]]:
    out = kubectl(
        sandbox["kubeconfig"], "get", "events.v1.events.k8s.io", "-n", "nimify-system", "-o", "json"
    )
    return [
        e for e in json.loads(out.stdout)["items"] if e.get("reportingController") == "sre.runbooks"
    ]


def _quiet(sandbox: dict[str, Any], *alerts: str) -> None:
    """No fault, Lease or mitigation history left from earlier tests, and `alerts` not firing."""
    state_dir = str(sandbox["state_dir_path"])
    runbook("sandbox", "clear", "--state-dir", state_dir)
    kubectl(sandbox["kubeconfig"], "delete", "lease", "--all", "-n", "nimify-system")
    kubectl(
        sandbox["kubeconfig"],
        "annotate",
        "deploy",
        "nimify-api",
        "-n",
        "nimify-system",
        "sre.runbooks/mitigations-",
    )
    for alert in alerts:
        assert wait_until(lambda a=alert: not alert_states(sandbox["prometheus_url"], a, "nimify"))


@pytest.fixture
def firing(sandbox: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """HighErrorRate injected and firing, with no Lease or cooldown left from earlier runs."""
    state_dir = str(sandbox["state_dir_path"])
    _quiet(sandbox, "HighErrorRate")
    result = runbook("sandbox", "inject", "HighErrorRate", "--wait", "--state-dir", state_dir)
    assert result.returncode == 0, result.stderr
    yield sandbox
    runbook("sandbox", "clear", "--state-dir", state_dir)


def test_run_by_name_resolves_the_alert_and_reports(firing: dict[str, Any], tmp_path: Path) -> None:
    before = _revision(firing)
    code, results = run(firing, tmp_path, "HighErrorRate", "--yes")
    assert code == 0, results
    (result,) = results
    assert result["outcome"] == "resolved"
    report = result["reports"][0]["report"]
    assert [d["status"] for d in report["decisions"]] == ["applied"]
    assert _revision(firing) == before + 1
    assert "firing" not in alert_states(firing["prometheus_url"], "HighErrorRate", "nimify")
    assert Path(result["reports"][0]["md"]).read_text().startswith("# HighErrorRate (nimify)")
    chart = Path(report["artifacts"]["chart"])
    assert chart.read_bytes().startswith(b"\x89PNG"), report["artifacts"]
    assert any("rollback" in e["note"] for e in _our_events(firing))
    assert report["silence_id"]  # a silence held while mitigating, expired after verification


def test_check_plans_and_changes_nothing(firing: dict[str, Any], tmp_path: Path) -> None:
    before = _revision(firing)
    events = len(_our_events(firing))
    code, results = run(firing, tmp_path, "HighErrorRate", "--check")
    assert code == 0, results
    report = results[0]["reports"][0]["report"]
    assert report["outcome"] == "planned"
    assert [d["action"] for d in report["decisions"]] == ["rollback"]
    assert _revision(firing) == before
    assert len(_our_events(firing)) == events
    assert "firing" in alert_states(firing["prometheus_url"], "HighErrorRate", "nimify")
    leases = kubectl(
        firing["kubeconfig"], "get", "lease", "-n", "nimify-system", "-o", "json"
    ).stdout
    assert not [i for i in json.loads(leases)["items"] if i["spec"].get("holderIdentity")]


def test_twenty_runs_four_at_a_time_apply_one_mitigation(
    firing: dict[str, Any], tmp_path: Path
) -> None:
    before = _revision(firing)
    events = len(_our_events(firing))
    # Without the verification wait, so that the later runs come while the alert still fires.
    args = (
        "HighErrorRate",
        "--yes",
        "-e",
        "sre_runbooks_verify=false",
        "-e",
        "sre_runbooks_chart=false",
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        finished = list(pool.map(lambda i: run(firing, tmp_path / str(i), *args), range(20)))
    outcomes = [results[0]["outcome"] for _code, results in finished]
    assert outcomes.count("mitigated") == 1, outcomes
    assert set(outcomes) <= {"mitigated", "locked", "cooldown", "not_firing"}, outcomes
    assert "cooldown" in outcomes or "locked" in outcomes
    # Held back while the alert fires is not resolved: never exit 0.
    expected = {"mitigated": 3, "locked": 4, "cooldown": 4, "not_firing": 0}
    assert [code for code, _results in finished] == [expected[o] for o in outcomes]
    assert _revision(firing) == before + 1
    assert len(_our_events(firing)) == events + 1


def _inject(sandbox: dict[str, Any], alert: str) -> None:
    state_dir = str(sandbox["state_dir_path"])
    result = runbook("sandbox", "inject", alert, "--wait", "--state-dir", state_dir)
    assert result.returncode == 0, result.stderr


def test_an_earlier_cure_of_another_alert_does_not_hold_back_this_one(
    firing: dict[str, Any], tmp_path: Path
) -> None:
    """ServiceDown cured (scale up), then a bad rollout of the same Deployment is rolled back;
    the same bad rollout again within the cooldown is held back, exits 4 and says why."""
    runbook("sandbox", "clear", "--state-dir", str(firing["state_dir_path"]))
    _inject(firing, "ServiceDown")
    code, results = run(firing, tmp_path / "down", "ServiceDown", "--yes")
    assert (code, results[0]["outcome"]) == (0, "resolved"), results
    runbook("sandbox", "clear", "--state-dir", str(firing["state_dir_path"]))

    _inject(firing, "HighErrorRate")
    before = _revision(firing)
    code, results = run(firing, tmp_path / "errors", "HighErrorRate", "--yes")
    assert (code, results[0]["outcome"]) == (0, "resolved"), results
    assert _revision(firing) == before + 1

    _inject(firing, "HighErrorRate")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Hook.received.clear()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        code, results = run(
            firing,
            tmp_path / "again",
            "HighErrorRate",
            "--yes",
            "-e",
            f"sre_runbooks_notify_url={url}",
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (code, results[0]["outcome"]) == (4, "cooldown"), results
    (message,) = _Hook.received
    _Hook.received.clear()
    assert "Held back, still firing (cooldown)" in message["text"]
    assert "HighErrorRate already mitigated Deployment nimify-system/nimify-api" in message["text"]
    assert "firing" in alert_states(firing["prometheus_url"], "HighErrorRate", "nimify")


def test_payload_runs_each_firing_alert_once_and_never_a_resolved_one(
    sandbox: dict[str, Any], tmp_path: Path
) -> None:
    # The payload says firing; Prometheus, which the runs ask, must say otherwise.
    _quiet(sandbox, "ServiceDown", "HighLatency", "HighErrorRate")

    def alert(name: str, status: str, fingerprint: str) -> dict[str, Any]:
        labels = {"alertname": name, "namespace": "nimify-system", "system": "nimify"}
        return {
            "status": status,
            "labels": labels,
            "annotations": {},
            "fingerprint": fingerprint,
            "startsAt": "2026-11-23T00:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
        }

    payload = {
        "version": "4",
        "status": "firing",
        "receiver": "sre",
        "groupKey": "{}:{}",
        "groupLabels": {},
        "commonLabels": {},
        "commonAnnotations": {},
        "externalURL": "http://am",
        "alerts": [
            alert("ServiceDown", "firing", "a1"),
            alert("ServiceDown", "firing", "a1"),  # the HA pair's duplicate
            alert("HighLatency", "firing", "b2"),
            alert("HighErrorRate", "resolved", "c3"),
        ],
    }
    code, results = run(sandbox, tmp_path, "--alert-file", "-", stdin=json.dumps(payload))
    assert code == 0, results
    assert sorted(r["alert"] for r in results) == ["HighLatency", "ServiceDown"]
    assert {r["outcome"] for r in results} == {"not_firing"}


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        _Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        del args


def test_unresolved_alert_notifies_with_escalation_and_keeps_the_webhook_secret(
    firing: dict[str, Any], tmp_path: Path
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    secret = "T000-B000-webhooksecret"  # noqa: S105  (a made-up webhook path to search artifacts for)
    url = f"http://127.0.0.1:{server.server_address[1]}/services/{secret}"
    try:
        # Verification gives up at once: the rollback is applied, the alert still fires.
        code, results = run(
            firing,
            tmp_path,
            "HighErrorRate",
            "--yes",
            "-e",
            f"sre_runbooks_notify_url={url}",
            "-e",
            "sre_runbooks_verify_timeout=0",
            # However fast the rollback cures the service, the alert's query still answers when
            # verification looks, as it would for a fault the rollback cannot cure.
            "-e",
            'remediation_firing_query=ALERTS{alertname="HighErrorRate"} or vector(1)',
        )
    finally:
        server.shutdown()
        server.server_close()
    assert (code, results[0]["outcome"]) == (3, "unresolved"), results
    (message,) = _Hook.received
    text = message["text"]
    assert text.startswith("🚨 **ALERT**: HighErrorRate")
    assert "**Severity**: SEV-1" in text
    assert "rollback on Deployment nimify-system/nimify-api" in text
    assert "**Escalation**: Engineering team lead after 10m" in text
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert secret not in path.read_text(errors="replace"), path
