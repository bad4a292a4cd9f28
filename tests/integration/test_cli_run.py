"""`runbook run` through real ansible-runner, against a stand-in for playbooks/remediate.yml.

The stand-in honours the launcher's contract (docs/launcher.md): it reads the extra variables,
writes ``<report dir>/<host>/report.json`` with the outcome a test asks for (``test_outcome``),
waits through a few retries (``test_attempts``) and fails on request (``test_fail``).
"""

import json
from pathlib import Path
from typing import Any

import pytest

from sre_runbooks import cli
from sre_runbooks import run as runs

PLAYBOOK = """\
---
- name: Remediate an alert (stand-in)
  hosts: all
  gather_facts: false
  tasks:
    - name: Wait for recovery
      ansible.builtin.debug:
        msg: waiting
      register: _wait
      until: (_wait.attempts | default(1) | int) >= (test_attempts | default('1') | int)
      retries: 30
      delay: 0
    - name: Fail when asked to
      ansible.builtin.fail:
        msg: asked to fail
      when: test_fail | default('no') == 'yes'
    - name: Create the report directory
      ansible.builtin.file:
        path: "{{ sre_runbooks_report_dir }}/{{ inventory_hostname }}"
        state: directory
        mode: "0700"
      check_mode: false
    - name: Write the report
      ansible.builtin.copy:
        dest: "{{ sre_runbooks_report_dir }}/{{ inventory_hostname }}/report.json"
        content: "{{ _report | to_nice_json }}"
        mode: "0600"
      check_mode: false
      vars:
        _report:
          run_id: "{{ sre_runbooks_run_id }}"
          alert: "{{ alert }}"
          system: "{{ alert_labels.system | default('') }}"
          role: stand_in
          cluster: "{{ inventory_hostname }}"
          target: {kind: Deployment, namespace: "{{ alert_labels.namespace | default('') }}",
                   name: nimify-api}
          check_mode: "{{ ansible_check_mode }}"
          outcome: "{{ 'planned' if ansible_check_mode else test_outcome | default('resolved') }}"
          findings: {error_rate: 0.12}
          investigation: []
          decisions: [{action: restart, description: restart pods, risky: false, status: applied}]
          actions: [{action: restart, object: pod/x, before: 1, after: 2, changed: true}]
          verification: {recovered: true, seconds: 3, query: up}
          timeline: []
          silence_id: ""
          escalation: []
          started_at: ""
          finished_at: ""
          message: stand-in
          labels: "{{ alert_labels }}"
          annotations: "{{ alert_annotations }}"
          fingerprint: "{{ alert_fingerprint }}"
          approve: "{{ sre_runbooks_approve }}"
          note: "{{ note | default('') }}"
    - name: Fail after reporting when asked to
      ansible.builtin.fail:
        msg: not resolved
      when: test_fail_after | default('no') == 'yes'
"""
MAINTENANCE = """\
---
- name: Daily maintenance (stand-in)
  hosts: all
  gather_facts: false
  tasks:
    - name: Say which
      ansible.builtin.debug:
        msg: "{{ sre_runbooks_maintenance }}"
"""
INVENTORY = """\
all:
  hosts:
    alpha:
    beta:
  vars:
    ansible_connection: local
    ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""
SECRETS = {"K8S_AUTH_API_KEY": "k8s-secret-7f3a9c", "PROMETHEUS_TOKEN": "prom-secret-51be02"}


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_role: Any) -> dict[str, Path]:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "remediate.yml").write_text(PLAYBOOK)
    (playbooks / "maintenance_daily.yml").write_text(MAINTENANCE)
    roles = tmp_path / "roles"
    for role in ("high_error_rate", "service_down", "pod_restart"):
        fake_role(roles, role, ["nimify"])
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    monkeypatch.delenv(runs.ARTIFACTS_ENV, raising=False)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return {
        "playbooks": playbooks,
        "roles": roles,
        "inventory": inventory,
        "runs": tmp_path / "runs",
        "tmp": tmp_path,
    }


def launch(
    capsys: pytest.CaptureFixture[str], world: dict[str, Path], *argv: str
) -> tuple[int, str, str]:
    common = ["--inventory", str(world["inventory"]), "--artifacts-dir", str(world["runs"])]
    code = cli.main([*argv, *common], playbooks_dir=world["playbooks"], roles_dir=world["roles"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_dirs(world: dict[str, Path]) -> list[Path]:
    return sorted(path for path in world["runs"].iterdir() if path.is_dir())


def test_exit_codes_progress_and_retention(capsys, world):
    world["runs"].mkdir()
    old = [world["runs"] / f"2020010{n}T000000Z-old-000{n}" for n in (1, 2, 3)]
    for path in old:
        path.mkdir()
    base = ("run", "HighErrorRate", "--system", "nimify", "--limit", "alpha", "--keep", "2")

    code, out, err = launch(capsys, world, *base, "-e", "test_attempts=3")
    assert code == cli.EXIT_OK
    assert "HighErrorRate (nimify) on alpha: resolved" in out
    assert "==> HighErrorRate (nimify) on alpha" in err
    assert "  ...      Wait for recovery" in err
    assert "  waiting  Wait for recovery  attempt" in err
    assert "  ok       Wait for recovery" in err
    assert "  skipped  Fail when asked to" in err
    for line in out.splitlines():
        if line.strip().startswith(("report:", "report json:")):
            assert Path(line.split(":", 1)[1].strip()).is_file()

    # The report decides, also when the play fails on purpose after writing it.
    code, out, _ = launch(
        capsys, world, *base, "-e", "test_outcome=unresolved", "-e", "test_fail_after=yes"
    )
    assert code == cli.EXIT_UNRESOLVED
    assert "on alpha: unresolved" in out
    assert "playbook:     failed" in out

    code, out, err = launch(capsys, world, *base, "-e", "test_fail=yes")
    assert code == cli.EXIT_FAILED
    assert "the playbook wrote no report" in out
    assert "failed   Fail when asked to" in err

    remaining = run_dirs(world)
    assert len(remaining) == 2
    assert not any(path.exists() for path in old)
    assert all(path.name.endswith(tuple("0123456789abcdef")) for path in remaining)


def test_check_mode_reaches_the_playbook(capsys, world):
    code, out, _ = launch(
        capsys, world, "run", "HighErrorRate", "--system", "nimify", "--check", "--json"
    )
    assert code == cli.EXIT_OK
    (result,) = json.loads(out)
    assert result["check_mode"] is True
    assert result["cluster"] is None
    assert sorted(item["cluster"] for item in result["reports"]) == ["alpha", "beta"]
    for item in result["reports"]:
        assert item["report"]["check_mode"] is True
        assert item["outcome"] == "planned"
        assert Path(item["json"]).is_file()
        assert item["md"] is None  # the stand-in writes no report.md


def test_payload_runs_each_firing_alert_once_on_its_cluster(capsys, world):
    trap = world["tmp"] / "pwned"
    lookup = "{{ lookup('pipe', 'touch " + str(trap) + "') }}"
    labels = {"namespace": "nimify-system", "system": "nimify"}
    payload = {
        "version": "4",
        "status": "firing",
        "alerts": [
            {
                "status": "firing",
                "fingerprint": "f1",
                "labels": {"alertname": "HighErrorRate", "cluster": "alpha", **labels},
                "annotations": {"summary": lookup},
            },
            {
                "status": "firing",
                "fingerprint": "f1",
                "labels": {"alertname": "HighErrorRate", "cluster": "alpha", **labels},
            },
            {
                "status": "firing",
                "fingerprint": "f2",
                "labels": {"alertname": "ServiceDown", "cluster": "beta", "note": lookup, **labels},
            },
            {
                "status": "resolved",
                "fingerprint": "f3",
                "labels": {"alertname": "HighErrorRate", "cluster": "beta", **labels},
            },
        ],
    }
    file = world["tmp"] / "payload.json"
    file.write_text(json.dumps(payload))
    code, out, err = launch(
        capsys, world, "run", "--alert-file", str(file), "--yes", "-e", f"note={lookup}", "--json"
    )
    assert code == cli.EXIT_OK, err
    results = json.loads(out)
    assert [(r["alert"], r["cluster"]) for r in results] == [
        ("HighErrorRate", "alpha"),
        ("ServiceDown", "beta"),
    ]
    assert "skipped: HighErrorRate (f3): resolved, not acted on" in err
    assert len(run_dirs(world)) == 2
    first, second = (result["reports"] for result in results)
    assert [item["cluster"] for item in first] == ["alpha"]
    assert [item["cluster"] for item in second] == ["beta"]
    assert first[0]["report"]["annotations"] == {"summary": lookup}
    assert first[0]["report"]["fingerprint"] == "f1"
    assert first[0]["report"]["approve"] is True
    assert first[0]["report"]["note"] == lookup
    assert second[0]["report"]["labels"]["note"] == lookup
    assert not trap.exists()

    for path in world["runs"].rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for secret in SECRETS.values():
                assert secret not in text, f"{secret} found in {path}"


def test_labels_given_on_the_command_line_reach_the_playbook_as_data(capsys, world):
    trap = world["tmp"] / "pwned"
    lookup = "{{ lookup('pipe', 'touch " + str(trap) + "') }}"
    pod = "nimify-api-7d9f8b6c5d-x2x4z"
    job = 'x"} or vector(1) or up{job="'
    code, out, err = launch(
        capsys,
        world,
        "run",
        "PodRestart",
        "--label",
        f"pod={pod}",
        "--label",
        "cluster=beta",
        "--label",
        f"job={job}",
        "--label",
        f"note={lookup}",
        "--json",
    )
    assert code == cli.EXIT_OK, err
    (result,) = json.loads(out)
    assert (result["alert"], result["system"], result["cluster"]) == (
        "PodRestart",
        "nimify",
        "beta",
    )
    (item,) = result["reports"]
    assert item["cluster"] == "beta"
    assert item["report"]["labels"] == {
        "alertname": "PodRestart",
        "pod": pod,
        "cluster": "beta",
        "job": job,
        "note": lookup,
        "system": "nimify",
    }
    assert not trap.exists()


def test_maintenance_runs_its_playbook(capsys, world):
    code, out, err = launch(capsys, world, "maintenance", "daily")
    assert code == cli.EXIT_OK, err
    assert "artifacts:" in out
