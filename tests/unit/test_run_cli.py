"""`runbook run` and `runbook maintenance`: argument handling and bad input, nothing runs."""

import io
import json
from pathlib import Path
from typing import Any

import ansible_runner
import pytest

from sre_runbooks import cli
from sre_runbooks import run as runs

INVENTORY = """\
all:
  hosts:
    alpha:
    beta:
  vars:
    ansible_connection: local
"""


@pytest.fixture
def never_runs(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """ansible_runner.run replaced by a recorder: a test asserts it stays empty."""
    calls: list[dict] = []

    def recorder(**kwargs: object) -> None:
        calls.append(kwargs)
        raise AssertionError("ansible_runner.run must not be called")

    monkeypatch.setattr(ansible_runner, "run", recorder)
    return calls


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_role: Any) -> dict[str, Path]:
    """An inventory, a roles dir with high_error_rate, a playbook dir, no sandbox."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv(runs.ARTIFACTS_ENV, raising=False)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    roles = tmp_path / "roles"
    fake_role(roles, "high_error_rate", ["nimify"])
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    (playbooks / "remediate.yml").write_text("---\n")
    return {"inventory": inventory, "roles": roles, "playbooks": playbooks, "tmp": tmp_path}


def run_cli(
    capsys: pytest.CaptureFixture[str], setup: dict[str, Path], *argv: str
) -> tuple[int, str, str]:
    code = cli.main(list(argv), playbooks_dir=setup["playbooks"], roles_dir=setup["roles"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def payload(*alerts: dict) -> str:
    return json.dumps({"version": "4", "status": "firing", "alerts": list(alerts)})


def alert(name: str, status: str = "firing", **labels: str) -> dict:
    return {"status": status, "labels": {"alertname": name, **labels}}


def successful_run(job: runs.Job, run_dir: Path) -> runs.RunResult:
    """What runs.remediate returns for a run that succeeded without a report (a stand-in)."""
    return runs.RunResult(
        name=job.alert,
        run_id="20261123T000000Z-x-0000",
        run_dir=run_dir,
        limit=job.limit,
        status="successful",
        rc=0,
        reports=[],
        exit_code=cli.EXIT_OK,
        system=job.entry.system,
    )


def test_unknown_alert_exits_2_with_suggestions(capsys, setup, never_runs):
    code, out, err = run_cli(capsys, setup, "run", "HighErorRate", "--inventory", "x")
    assert code == cli.EXIT_BAD_INPUT
    assert "unknown alert 'HighErorRate'" in err
    assert "Did you mean: HighErrorRate" in err
    assert out == ""
    assert never_runs == []


def test_alert_without_role_exits_2(capsys, setup, never_runs):
    code, _, err = run_cli(
        capsys, setup, "run", "ServiceDown", "--system", "nimify", "--inventory", "x"
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "no remediation role for ServiceDown (nimify) yet" in err
    assert "`runbook list` shows which alerts have one" in err
    assert never_runs == []


def test_no_inventory_and_no_sandbox_exits_2(capsys, setup, never_runs):
    code, _, err = run_cli(capsys, setup, "run", "HighErrorRate", "--system", "nimify")
    assert code == cli.EXIT_BAD_INPUT
    assert "no inventory given and no sandbox running" in err
    assert "runbook sandbox up" in err
    assert never_runs == []


def test_missing_inventory_file_exits_2(capsys, setup, never_runs):
    missing = str(setup["tmp"] / "nope.yml")
    code, _, err = run_cli(
        capsys, setup, "run", "HighErrorRate", "--system", "nimify", "--inventory", missing
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "does not exist" in err


def test_limit_outside_the_inventory_exits_2(capsys, setup, never_runs):
    inventory = str(setup["inventory"])
    code, _, err = run_cli(
        capsys,
        setup,
        "run",
        "HighErrorRate",
        "--system",
        "nimify",
        "--inventory",
        inventory,
        "--limit",
        "all:!alpha",
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "is not a host or group" in err
    assert never_runs == []


@pytest.mark.parametrize("pair", ["novalue", "1x=2", "class=1", "a-b=1"])
def test_malformed_extra_vars_exit_2(capsys, setup, never_runs, pair):
    code, _, err = run_cli(
        capsys,
        setup,
        "run",
        "HighErrorRate",
        "--system",
        "nimify",
        "-e",
        pair,
        "--inventory",
        str(setup["inventory"]),
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "extra variable" in err
    assert never_runs == []


def test_alert_and_alert_file_together_exit_2(capsys, setup, never_runs):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("HighErrorRate", namespace="nimify-system")))
    code, _, err = run_cli(capsys, setup, "run", "HighErrorRate", "--alert-file", str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "either ALERT" in err


def test_neither_alert_nor_file_exits_2(capsys, setup, never_runs):
    code, _, err = run_cli(capsys, setup, "run")
    assert code == cli.EXIT_BAD_INPUT
    assert "give an ALERT" in err


def test_invalid_namespace_is_refused_by_argparse(capsys, setup, never_runs):
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "HighErrorRate", "--namespace", "Bad_NS"])
    assert caught.value.code == 2
    assert "namespace name 'Bad_NS' is invalid" in capsys.readouterr().err


@pytest.mark.parametrize("keep", ["0", "-3", "many"])
def test_keep_must_be_positive(capsys, keep):
    with pytest.raises(SystemExit) as caught:
        cli.main(["run", "HighErrorRate", "--keep", keep])
    assert caught.value.code == 2


def test_payload_cluster_not_in_inventory_exits_2(capsys, setup, never_runs):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("HighErrorRate", namespace="nimify-system", cluster="gamma")))
    code, _, err = run_cli(
        capsys, setup, "run", "--alert-file", str(file), "--inventory", str(setup["inventory"])
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "cluster 'gamma' is not a host" in err
    assert "alpha, beta" in err
    assert never_runs == []


def test_payload_with_a_bad_name_label_exits_2_before_the_target(capsys, setup, never_runs):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("HighErrorRate", namespace="$(reboot)")))
    code, _, err = run_cli(capsys, setup, "run", "--alert-file", str(file))
    assert code == cli.EXIT_BAD_INPUT
    assert "label 'namespace'" in err
    assert "no sandbox" not in err


def test_payload_from_stdin(capsys, setup, never_runs, monkeypatch):
    data = payload(alert("HighErorRate", namespace="nimify-system"))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data.encode())))
    code, _, err = run_cli(capsys, setup, "run", "--alert-file", "-")
    assert code == cli.EXIT_BAD_INPUT
    assert "unknown alert 'HighErorRate'" in err


def test_only_resolved_alerts_run_nothing(capsys, setup, never_runs):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("HighErrorRate", "resolved", namespace="nimify-system")))
    code, out, err = run_cli(
        capsys,
        setup,
        "run",
        "--alert-file",
        str(file),
        "--inventory",
        str(setup["inventory"]),
        "--json",
    )
    assert code == cli.EXIT_OK
    assert json.loads(out) == []
    assert "skipped: HighErrorRate" in err
    assert "resolved, not acted on" in err
    assert never_runs == []


def test_missing_remediation_playbook_exits_2(capsys, setup, never_runs):
    (setup["playbooks"] / "remediate.yml").unlink()
    code, _, err = run_cli(
        capsys,
        setup,
        "run",
        "HighErrorRate",
        "--system",
        "nimify",
        "--inventory",
        str(setup["inventory"]),
        "--artifacts-dir",
        str(setup["tmp"] / "runs"),
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "not available yet" in err


def test_maintenance_without_playbooks_exits_2(capsys, setup, never_runs):
    code, _, err = run_cli(capsys, setup, "maintenance", "daily")
    assert code == cli.EXIT_BAD_INPUT
    assert "maintenance playbooks are not available yet" in err
    assert never_runs == []


def test_run_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    out = capsys.readouterr().out
    for line in ("0  resolved", "1  failed", "2  bad input", "3  mitigated but not resolved"):
        assert line in out


def test_list_shows_whether_a_role_is_available(capsys):
    assert cli.main(["list", "--json"]) == cli.EXIT_OK
    listed = json.loads(capsys.readouterr().out)
    assert all(isinstance(item["available"], bool) for item in listed)
    available = {(item["alert"], item["system"]) for item in listed if item["available"]}
    # Seed 001's alerts have their roles; a shared name's role serves its nimify entry only.
    assert ("HighErrorRate", "nimify") in available
    assert ("HighErrorRate", "api-optimizer") not in available
    assert all(item["system"] == "nimify" for item in listed if item["available"])
    assert cli.main(["list", "--system", "bolt"]) == cli.EXIT_OK
    header = capsys.readouterr().out.splitlines()[0].split()
    assert header[:6] == ["alert", "system", "severity", "seed", "role", "available"]


def test_without_inventory_the_running_sandbox_is_the_target(capsys, setup, monkeypatch):
    from sre_runbooks_sandbox import control  # noqa: PLC0415

    state_dir = setup["tmp"] / "sandbox"
    (state_dir / "inventory").mkdir(parents=True)
    (state_dir / "inventory" / "hosts.yml").write_text("all:\n  hosts:\n    sandbox:\n")
    state = {"running": True, "state_dir": str(state_dir), "kubeconfig": "/k/kubeconfig"}
    monkeypatch.setattr(control, "status", lambda _: state)
    seen: list = []

    def remediate(job, **kwargs):
        seen.append((job, kwargs))
        return successful_run(job, setup["tmp"])

    monkeypatch.setattr(runs, "remediate", remediate)
    code, out, err = run_cli(
        capsys,
        setup,
        "run",
        "HighErrorRate",
        "--system",
        "nimify",
        "--check",
        "--yes",
        "-e",
        "a=b",
        "--artifacts-dir",
        str(setup["tmp"] / "runs"),
    )
    assert code == cli.EXIT_OK
    assert "target: sandbox (/k/kubeconfig)" in err
    ((job, kwargs),) = seen
    assert kwargs["inventory"] == state_dir / "inventory"
    assert kwargs["check"] is True
    assert kwargs["approve"] is True
    assert kwargs["extra"] == {"a": "b"}
    assert job.labels == {"alertname": "HighErrorRate", "system": "nimify"}
    assert "HighErrorRate (nimify): runner successful" in out


# ----- --label -----


@pytest.fixture
def recorded(setup: dict[str, Path], fake_role: Any, monkeypatch: pytest.MonkeyPatch) -> list:
    """PodRestart's and HighMemoryUsage's roles (Nimify) exist; runs.remediate records its jobs."""
    for role in ("pod_restart", "high_memory_usage"):
        fake_role(setup["roles"], role, ["nimify"])
    jobs: list = []

    def remediate(job: runs.Job, **kwargs: Any) -> runs.RunResult:
        jobs.append(job)
        return successful_run(job, setup["tmp"])

    monkeypatch.setattr(runs, "remediate", remediate)
    return jobs


def run_named(capsys, setup, *argv: str) -> tuple[int, str, str]:
    return run_cli(
        capsys,
        setup,
        "run",
        *argv,
        "--inventory",
        str(setup["inventory"]),
        "--artifacts-dir",
        str(setup["tmp"] / "runs"),
    )


POD = "nimify-api-7d9f8b6c5d-x2x4z"


def test_an_alert_whose_target_needs_a_label_says_how_to_give_it(capsys, setup, recorded):
    code, out, err = run_named(capsys, setup, "PodRestart")
    assert code == cli.EXIT_BAD_INPUT
    assert "PodRestart (nimify) needs the alert label 'pod'" in err
    assert "--label pod=VALUE" in err
    assert out == ""
    assert recorded == []


def test_labels_reach_the_job_and_select_the_target(capsys, setup, recorded):
    code, _, err = run_named(
        capsys,
        setup,
        "PodRestart",
        "--label",
        f"pod={POD}",
        "--label",
        "namespace=triton-system",
        "--label",
        'job=x"} or vector(1)',
        "--namespace",
        "triton-system",  # the same value twice is no conflict
    )
    assert code == cli.EXIT_OK, err
    (job,) = recorded
    assert job.labels == {
        "alertname": "PodRestart",
        "pod": POD,
        "namespace": "triton-system",
        "job": 'x"} or vector(1)',
        "system": "nimify",
    }
    assert job.entry.target_for(job.labels) == {
        "kind": "Pod",
        "namespace": "triton-system",
        "name": POD,
    }
    assert job.limit is None


def test_a_shared_name_with_only_a_pod_label_runs_the_system_that_has_a_role(
    capsys, setup, recorded
):
    code, _, err = run_named(capsys, setup, "HighMemoryUsage", "--label", f"pod={POD}")
    assert code == cli.EXIT_OK, err
    (job,) = recorded
    assert (job.entry.system, job.labels["pod"], job.labels["system"]) == ("nimify", POD, "nimify")


def test_a_cluster_label_is_the_runs_limit(capsys, setup, recorded):
    code, _, err = run_named(
        capsys, setup, "PodRestart", "--label", f"pod={POD}", "--label", "cluster=beta"
    )
    assert code == cli.EXIT_OK, err
    assert [job.limit for job in recorded] == ["beta"]


WITH_POD = ["--label", f"pod={POD}"]
BAD_LABELS = [
    (["--label", "pod"], "--label 'pod' is not of the form key=value"),
    ([*WITH_POD, "--label", "a-b=1"], "label name 'a-b' is invalid"),
    ([*WITH_POD, "--label", "$(id)=1"], "label name '$(id)' is invalid"),
    ([*WITH_POD, "--label", "=1"], "label name '' is invalid"),
    (["--label", "pod=Bad_Pod"], "label 'pod': pod name 'Bad_Pod' is invalid"),
    (["--label", "pod=a;reboot"], "label 'pod': pod name 'a;reboot' is invalid"),
    ([*WITH_POD, "--label", "alertname=HighErrorRate"], "the alert name is ALERT"),
    ([*WITH_POD, "--label", f"pod={POD}"], "'pod' is given more than once"),
    (
        [*WITH_POD, "--namespace", "nimify-system", "--label", "namespace=database"],
        "--namespace 'nimify-system' and --label namespace='database' disagree",
    ),
    (
        [*WITH_POD, "--system", "nimify", "--label", "system=service-template"],
        "--system 'nimify' and --label system='service-template' disagree",
    ),
    ([*WITH_POD, "--label", "cluster=gamma"], "cluster 'gamma' is not a host"),
    (
        [*WITH_POD, "--label", "cluster=alpha", "--limit", "beta"],
        "--limit 'beta' and --label cluster='alpha' disagree",
    ),
    ([*WITH_POD, "--label", "system=bolt"], "PodRestart: no entry matches labels"),
]


@pytest.mark.parametrize("case", BAD_LABELS, ids=[message for _, message in BAD_LABELS])
def test_bad_labels_exit_2_and_nothing_runs(capsys, setup, recorded, never_runs, case):
    argv, message = case
    code, out, err = run_named(capsys, setup, "PodRestart", *argv)
    assert code == cli.EXIT_BAD_INPUT
    assert message in err
    assert out == ""
    assert recorded == []
    assert never_runs == []
    assert not (setup["tmp"] / "runs").exists()


def test_labels_with_an_alert_file_exit_2(capsys, setup, recorded):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("PodRestart", namespace="nimify-system", pod=POD)))
    code, _, err = run_cli(capsys, setup, "run", "--alert-file", str(file), "--label", "pod=x")
    assert code == cli.EXIT_BAD_INPUT
    assert "give either ALERT (with --namespace/--system/--label) or --alert-file" in err
    assert recorded == []


def test_a_payload_label_named_like_a_command_exits_2_before_anything(capsys, setup, never_runs):
    file = setup["tmp"] / "payload.json"
    file.write_text(payload(alert("HighErrorRate", namespace="nimify-system", **{"$(id)": "x"})))
    code, out, err = run_cli(
        capsys, setup, "run", "--alert-file", str(file), "--inventory", str(setup["inventory"])
    )
    assert code == cli.EXIT_BAD_INPUT
    assert "alerts[0].labels: label name '$(id)' is invalid" in err
    assert out == ""
    assert never_runs == []
