"""The launcher's pieces: exit codes, retention, extra variables that are never templated."""

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar
from hypothesis import given, settings
from hypothesis import strategies as st

from sre_runbooks import run as runs

EXAMPLES = settings(max_examples=50, deadline=None)


@pytest.mark.parametrize(
    ("outcome", "code"),
    [
        ("resolved", 0),
        ("not_firing", 0),
        ("cooldown", 4),
        ("locked", 4),
        ("budget", 4),
        ("planned", 0),
        ("approval_required", 3),
        ("unresolved", 3),
        ("refused", 1),
        ("failed", 1),
        ("something-else", 1),
        (None, 1),
        (3, 1),
    ],
)
def test_outcome_exit_codes(outcome, code):
    assert runs.outcome_exit(outcome) == code


@pytest.mark.parametrize(
    ("codes", "worst"),
    [
        ([], 0),
        ([0, 0], 0),
        ([0, 3], 3),
        ([3, 1, 0], 1),
        ([1, 3], 1),
        ([0, 2, 1], 2),
        ([0, 4], 4),
        ([4, 3], 3),
        ([4, 1], 1),
    ],
)
def test_the_worst_exit_code_wins(codes, worst):
    assert runs.worst_exit(codes) == worst


def test_run_ids_are_sortable_lower_case_and_unique():
    now = datetime(2026, 11, 23, 0, 45, 12, tzinfo=UTC)
    first = runs.new_run_id("HighErrorRate", now)
    assert first.startswith("20261123T004512Z-higherrorrate-")
    assert runs._RUN_ID.fullmatch(first)
    assert runs.new_run_id("Odd_Name Here!", now).startswith("20261123T004512Z-odd-name-here-")
    assert len({runs.new_run_id("x", now) for _ in range(20)}) > 1


def test_prune_keeps_the_newest_run_directories(tmp_path):
    names = [
        "20261101T000000Z-a-0001",
        "20261102T000000Z-b-0002",
        "20261103T000000Z-c-0003",
        "20261104T000000Z-d-0004",
    ]
    for name in names:
        (tmp_path / name / "report").mkdir(parents=True)
    (tmp_path / "notes").mkdir()
    (tmp_path / "README").write_text("kept")
    deleted = runs.prune(tmp_path, 2)
    assert sorted(path.name for path in deleted) == names[:2]
    assert sorted(path.name for path in tmp_path.iterdir()) == [*names[2:], "README", "notes"]
    assert runs.prune(tmp_path, 5) == []
    assert runs.prune(tmp_path / "missing", 1) == []


def test_artifacts_root_precedence(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(runs.ARTIFACTS_ENV, raising=False)
    assert runs.artifacts_root() == tmp_path / "xdg" / "sre-runbooks" / "runs"
    monkeypatch.setenv(runs.ARTIFACTS_ENV, str(tmp_path / "env"))
    assert runs.artifacts_root() == tmp_path / "env"
    assert runs.artifacts_root(str(tmp_path / "opt")) == tmp_path / "opt"


def _load_as_ansible(path: Path) -> dict:
    # trusted_as_template: as ansible-playbook treats a file given with -e @file.
    return DataLoader().load_from_file(str(path), trusted_as_template=True)


def test_extravars_strings_from_users_are_never_templated(tmp_path):
    trap = "{{ lookup('pipe', 'touch " + str(tmp_path / "pwned") + "') }}"
    variables = {
        "alert_labels": {"alertname": "HighErrorRate", "summary": trap, "flag": "yes"},
        "alert_annotations": {"description": "{{ 6 * 7 }}", "count": "12", "none": "null"},
        "note": "{% raw %}x",
        "sre_runbooks_approve": True,
        "empty": "",
        "nested": ["{{ 1 }}", {"k": "{{ 2 }}"}],
    }
    path = runs.write_extravars(tmp_path, variables)
    assert path == tmp_path / "env" / "extravars"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert path.read_text().startswith("--- !unsafe\n")
    loaded = _load_as_ansible(path)
    templar = Templar(loader=DataLoader(), variables=loaded)
    assert templar.template(loaded) == variables
    assert templar.template(loaded["alert_labels"])["summary"] == trap
    assert not (tmp_path / "pwned").exists()


def test_the_same_text_without_the_tag_would_be_templated(tmp_path):
    """The control: Ansible templates a plain extra variables file."""
    path = tmp_path / "plain.yml"
    path.write_text(runs.extravars_text({"x": "{{ 6 * 7 }}"}).replace("!unsafe", ""))
    loaded = _load_as_ansible(path)
    assert Templar(loader=DataLoader(), variables=loaded).template(loaded["x"]) == 42


@EXAMPLES
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=20),
        st.text(max_size=60) | st.lists(st.text(max_size=10), max_size=3) | st.booleans(),
        max_size=5,
    )
)
def test_extravars_round_trip_any_value_through_ansible(tmp_path_factory, labels):
    directory = tmp_path_factory.mktemp("extravars")
    variables = {"alert_labels": labels, "sre_runbooks_approve": False}
    path = runs.write_extravars(directory, variables)
    loaded = _load_as_ansible(path)
    assert Templar(loader=DataLoader(), variables=loaded).template(loaded) == variables


def test_job_variables_follow_the_contract():
    from sre_runbooks.catalog import load_catalog  # noqa: PLC0415

    entry = load_catalog().resolve("HighErrorRate", {"system": "nimify"})
    job = runs.Job(
        alert="HighErrorRate",
        entry=entry,
        labels={"alertname": "HighErrorRate", "system": "nimify"},
        annotations={"summary": "s"},
        fingerprint="abc",
        starts_at="2026-11-23T00:00:00Z",
    )
    variables = runs.job_variables(job, {"note": "n"}, approve=True)
    assert variables == {
        "note": "n",
        "alert": "HighErrorRate",
        "alert_labels": {"alertname": "HighErrorRate", "system": "nimify"},
        "alert_annotations": {"summary": "s"},
        "alert_fingerprint": "abc",
        "alert_starts_at": "2026-11-23T00:00:00Z",
        "sre_runbooks_approve": True,
    }
    assert variables["sre_runbooks_approve"] is True


def test_extra_vars_cannot_override_the_contract():
    from sre_runbooks.catalog import load_catalog  # noqa: PLC0415

    entry = load_catalog().resolve("HighErrorRate", {"system": "nimify"})
    job = runs.Job(alert="HighErrorRate", entry=entry, labels={"alertname": "HighErrorRate"})
    variables = runs.job_variables(job, {"alert": "Other", "sre_runbooks_approve": "1"}, False)
    assert variables["alert"] == "HighErrorRate"
    assert variables["sre_runbooks_approve"] is False


def test_command_artifact_keeps_no_secret_values(tmp_path):
    command = tmp_path / "artifacts" / "r1" / "command"
    command.parent.mkdir(parents=True)
    env = {"PATH": "/bin", "K8S_AUTH_API_KEY": "s3cr3t", "PROMETHEUS_TOKEN": "t0k3n"}
    command.write_text(json.dumps({"command": ["ansible-playbook"], "cwd": "/", "env": env}))
    runs.scrub_command_artifact(tmp_path)
    document = json.loads(command.read_text())
    assert document["env"] == {
        "PATH": "/bin",
        "K8S_AUTH_API_KEY": runs.REDACTED,
        "PROMETHEUS_TOKEN": runs.REDACTED,
    }
    assert document["command"] == ["ansible-playbook"]


def test_runner_env_finds_this_python_s_ansible_playbook():
    env = runs._runner_env()
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert env["ANSIBLE_CONFIG"].endswith("ansible.cfg")


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "inventory", [REPO / "inventories" / "example", REPO / "inventories" / "sandbox" / "hosts.yml"]
)
def test_yaml_inventories_are_read_like_ansible_reads_them(inventory):
    from ansible.inventory.manager import InventoryManager  # noqa: PLC0415

    fast = runs._yaml_inventory(inventory)
    assert fast is not None
    manager = InventoryManager(loader=DataLoader(), sources=[str(inventory)])
    assert sorted(fast[0]) == sorted(host.name for host in manager.get_hosts())
    assert fast[1] == set(manager.groups) - {"all", "ungrouped"}
    assert runs.read_inventory(inventory)[0] == tuple(sorted(fast[0]))


def test_other_inventories_are_read_by_ansible(tmp_path):
    ini = tmp_path / "hosts.ini"
    ini.write_text("[clusters]\nalpha\nbeta ansible_connection=local\n")
    assert runs._yaml_inventory(ini) is None
    assert runs.read_inventory(ini) == (("alpha", "beta"), ("clusters",))
    ranged = tmp_path / "ranged.yml"
    ranged.write_text("all:\n  hosts:\n    web[1:2]:\n")
    assert runs._yaml_inventory(ranged) is None
    assert runs.read_inventory(ranged)[0] == ("web1", "web2")


def test_an_inventory_without_hosts_is_bad_input(tmp_path):
    empty = tmp_path / "empty.yml"
    empty.write_text("all:\n  vars: {}\n")
    with pytest.raises(runs.TargetError, match="has no hosts"):
        runs.read_inventory(empty)
    with pytest.raises(runs.TargetError, match="does not exist"):
        runs.read_inventory(tmp_path / "missing.yml")
