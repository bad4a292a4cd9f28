"""sre.runbooks.alertmanager_silence against the real Alertmanager.

The Alertmanager is shared by the session, so every test scopes its silences by a label whose
value is the test's own tmp_path name, and asks the server only about that label.
"""

import datetime
import json
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sre_runbooks.monitoring import free_port
from sre_runbooks.monitoring.servers import get_json

pytestmark = pytest.mark.integration

MODULE = "sre.runbooks.alertmanager_silence"
REPO_ROOT = Path(__file__).resolve().parents[2]


def silences_of(alertmanager, scope):
    """Every silence (any state) carrying the test's scope matcher, straight from the server."""
    return [
        s
        for s in get_json(f"{alertmanager.url}/api/v2/silences")
        if {"name": "runbook_test", "value": scope} in _names_values(s["matchers"])
    ]


def live_silences(alertmanager, scope):
    return [s for s in silences_of(alertmanager, scope) if s["status"]["state"] != "expired"]


def _names_values(matchers):
    return [{"name": m["name"], "value": m["value"]} for m in matchers]


def post_silence(alertmanager, matchers, created_by, hours=1):
    now = datetime.datetime.now(datetime.UTC)
    body = {
        "matchers": [
            {"name": name, "value": value, "isRegex": False, "isEqual": True}
            for name, value in matchers
        ],
        "startsAt": now.isoformat(),
        "endsAt": (now + datetime.timedelta(hours=hours)).isoformat(),
        "createdBy": created_by,
        "comment": "made by the test directly",
    }
    request = urllib.request.Request(
        f"{alertmanager.url}/api/v2/silences",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)["silenceID"]


def ends_at(silence):
    return datetime.datetime.fromisoformat(silence["endsAt"])


def hours_from_now(silence):
    delta = ends_at(silence) - datetime.datetime.now(datetime.UTC)
    return delta.total_seconds() / 3600


@pytest.fixture
def scope(tmp_path):
    return tmp_path.name


@pytest.fixture
def scoped_silences(alertmanager, scope):
    """Every silence of this test, as the server lists it now."""
    return lambda: silences_of(alertmanager, scope)


@pytest.fixture
def silence_args(alertmanager, scope):
    """Module arguments for a 1h silence of this test's alerts."""

    def build(**extra):
        args = {
            "url": alertmanager.url,
            "matchers": [f'runbook_test="{scope}"', 'alertname=~"Disk(Full|Filling)"'],
            "duration": "1h",
            "comment": "integration test",
        }
        args.update(extra)
        # Ansible counts an option given as null as given (mutually_exclusive): drop it.
        return {name: value for name, value in args.items() if value is not None}

    return build


def test_creating_twice_leaves_one_active_silence_and_no_change_the_second_time(
    ansible_module, alertmanager, scope, silence_args
):
    first = ansible_module(MODULE, silence_args())
    assert first["changed"] is True

    # The same set of matchers in another order and form is the same silence.
    reordered = [{"name": "alertname", "value": "Disk(Full|Filling)", "is_regex": True}]
    second = ansible_module(MODULE, silence_args(matchers=[*reordered, f"runbook_test={scope}"]))
    assert second["changed"] is False
    assert second["silence_id"] == first["silence_id"]

    [on_server] = live_silences(alertmanager, scope)
    assert on_server["id"] == first["silence_id"]
    assert on_server["status"]["state"] == "active"
    assert on_server["createdBy"] == "sre.runbooks"
    assert first["silence"]["state"] == "active"
    assert first["silence"]["ends_at"] == on_server["endsAt"]


def test_a_longer_duration_extends_the_same_silence_in_place(
    ansible_module, alertmanager, scope, silence_args
):
    created = ansible_module(MODULE, silence_args())
    extended = ansible_module(MODULE, silence_args(duration="3h", comment="needs longer"))
    assert extended["changed"] is True
    # Alertmanager 0.25 updates in place: same ID, no replacement silence.
    assert extended["silence_id"] == created["silence_id"]
    assert "previous_silence_id" not in extended

    [on_server] = silences_of(alertmanager, scope)
    assert on_server["id"] == created["silence_id"]
    assert on_server["status"]["state"] == "active"
    assert on_server["comment"] == "needs longer"
    assert on_server["startsAt"] == created["silence"]["starts_at"]
    assert 2.9 < hours_from_now(on_server) <= 3


def test_check_mode_reports_the_change_and_leaves_the_server_untouched(
    ansible_module, alertmanager, scope, silence_args
):
    would_create = ansible_module(MODULE, silence_args(), check=True)
    assert would_create["changed"] is True
    assert would_create["silence_id"] is None
    assert would_create["silence"]["state"] == "active"
    assert silences_of(alertmanager, scope) == []

    created = ansible_module(MODULE, silence_args())
    [before] = silences_of(alertmanager, scope)

    would_extend = ansible_module(MODULE, silence_args(duration="2h"), check=True)
    assert would_extend["changed"] is True
    assert would_extend["silence_id"] == created["silence_id"]
    assert silences_of(alertmanager, scope) == [before]

    would_expire = ansible_module(
        MODULE, {"url": alertmanager.url, "state": "absent", "silence_id": before["id"]}, check=True
    )
    assert would_expire["changed"] is True
    assert would_expire["expired_silence_ids"] == [before["id"]]
    assert silences_of(alertmanager, scope) == [before]


def test_diff_shows_the_silence_before_and_after(ansible_module, scope, silence_args):
    created = ansible_module(MODULE, silence_args(), diff=True)
    assert created["diff"]["before"] == {}
    after = created["diff"]["after"]
    assert after["matchers"] == [f'runbook_test="{scope}"', 'alertname=~"Disk(Full|Filling)"']
    assert after["comment"] == "integration test"
    assert after["created_by"] == "sre.runbooks"
    assert after["id"] == created["silence_id"]

    extended = ansible_module(MODULE, silence_args(duration="2h", comment="longer"), diff=True)
    before, after = extended["diff"]["before"], extended["diff"]["after"]
    assert (before["comment"], after["comment"]) == ("integration test", "longer")
    assert after["ends_at"] > before["ends_at"]
    assert after["starts_at"] == before["starts_at"]


def test_expiry_by_id_leaves_the_silence_expired_on_the_server(
    ansible_module, alertmanager, scope, silence_args
):
    created = ansible_module(MODULE, silence_args())
    absent = {"url": alertmanager.url, "state": "absent", "silence_id": created["silence_id"]}

    expired = ansible_module(MODULE, absent)
    assert expired["changed"] is True
    assert expired["silence_id"] == created["silence_id"]
    assert expired["silence"]["state"] == "expired"
    assert [s["status"]["state"] for s in silences_of(alertmanager, scope)] == ["expired"]

    again = ansible_module(MODULE, absent)
    assert again["changed"] is False


def test_expiry_by_matchers_expires_every_live_silence_with_exactly_that_set(
    ansible_module, alertmanager, scope
):
    pair = [("runbook_test", scope), ("alertname", "DiskFull")]
    ours = post_silence(alertmanager, pair, "sre.runbooks")
    theirs = post_silence(alertmanager, pair[::-1], "alice")
    wider = post_silence(alertmanager, [*pair, ("instance", "db-1")], "sre.runbooks")
    absent = {
        "url": alertmanager.url,
        "state": "absent",
        "matchers": ['alertname="DiskFull"', f'runbook_test="{scope}"'],
    }

    only_alice = ansible_module(MODULE, {**absent, "created_by": "alice"})
    assert only_alice["expired_silence_ids"] == [theirs]
    assert only_alice["silence_id"] == theirs

    everyone = ansible_module(MODULE, absent)
    assert everyone["changed"] is True
    assert everyone["expired_silence_ids"] == [ours]

    states = {s["id"]: s["status"]["state"] for s in silences_of(alertmanager, scope)}
    assert states == {ours: "expired", theirs: "expired", wider: "active"}


def test_absent_when_nothing_matches_is_not_a_change(ansible_module, alertmanager, scope):
    by_matchers = ansible_module(
        MODULE, {"url": alertmanager.url, "state": "absent", "matchers": [f"runbook_test={scope}"]}
    )
    assert by_matchers["changed"] is False
    assert by_matchers["expired_silence_ids"] == []

    unknown_id = "00000000-0000-4000-8000-000000000000"
    by_id = ansible_module(
        MODULE, {"url": alertmanager.url, "state": "absent", "silence_id": unknown_id}
    )
    assert by_id["changed"] is False
    assert by_id["silence"] is None


def test_a_future_window_is_pending_and_reused(ansible_module, alertmanager, scope, silence_args):
    start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)
    window = silence_args(
        duration=None,
        starts_at=start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ends_at=(start + datetime.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    created = ansible_module(MODULE, window)
    again = ansible_module(MODULE, window)
    assert (created["changed"], again["changed"]) == (True, False)
    assert again["silence_id"] == created["silence_id"]
    [on_server] = silences_of(alertmanager, scope)
    assert on_server["status"]["state"] == "pending"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"matchers": []}, "matchers is empty"),
        ({"duration": "90x"}, "duration '90x' is not a duration"),
        (
            {
                "duration": None,
                "starts_at": "2030-01-02T00:00:00Z",
                "ends_at": "2030-01-01T00:00:00Z",
            },
            "ends_at 2030-01-01T00:00:00.000Z is not after starts_at 2030-01-02T00:00:00.000Z",
        ),
    ],
    ids=["empty-matchers", "bad-duration", "ends-before-start"],
)
def test_invalid_input_fails_with_a_clear_message_and_creates_nothing(
    ansible_module, scoped_silences, silence_args, change, message
):
    result = ansible_module(MODULE, silence_args(**change))
    assert result["failed"] is True
    assert message in result["msg"]
    assert scoped_silences() == []


def test_an_unreachable_alertmanager_fails_naming_it_and_the_url(ansible_module, silence_args):
    url = f"http://127.0.0.1:{free_port()}"
    result = ansible_module(MODULE, silence_args(url=url, retries=0))
    assert result["failed"] is True
    assert result["msg"].startswith(f"Failed to list silences: {url}/api/v2/silences")
    assert "Alertmanager unreachable" in result["msg"]


def test_a_silence_alertmanager_refuses_is_reported_with_its_own_message(
    ansible_module, alertmanager, scope, silence_args
):
    bad_name = {"name": "bad name", "value": "x"}
    result = ansible_module(MODULE, silence_args(matchers=[f"runbook_test={scope}", bad_name]))
    assert result["failed"] is True
    assert result["status"] == 400
    assert result["msg"] == (
        f"Failed to create silence: {alertmanager.url}/api/v2/silences answered HTTP 400: "
        'silence invalid: invalid label matcher 1: invalid label name "bad name"'
    )
    assert silences_of(alertmanager, scope) == []


def test_a_token_from_the_environment_never_appears_in_the_result(ansible_module, silence_args):
    token = "tok-3b1f9e-do-not-print"  # noqa: S105  (a fake token whose leak the test looks for)
    result = ansible_module(MODULE, silence_args(), diff=True, env={"ALERTMANAGER_TOKEN": token})
    assert result["changed"] is True
    assert token not in json.dumps(result)

    unreachable = silence_args(url=f"http://127.0.0.1:{free_port()}", retries=0)
    failed = ansible_module(MODULE, unreachable, env={"ALERTMANAGER_TOKEN": token})
    assert failed["failed"] is True
    assert token not in json.dumps(failed)


PLAYBOOK = """
- name: Silence during a remediation, then expire the silence
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/sre.runbooks.alertmanager:
      url: "{{ alertmanager_url }}"
  vars:
    matchers: ['runbook_test="{{ scope }}"', 'alertname="DiskFull"']
  tasks:
    - name: Silence
      sre.runbooks.alertmanager_silence:
        matchers: "{{ matchers }}"
        duration: 30m
        comment: remediation
      register: created
    - name: Silence again
      sre.runbooks.alertmanager_silence:
        matchers: "{{ matchers | reverse }}"
        duration: 30m
        comment: remediation
      register: again
    - name: Silence longer
      sre.runbooks.alertmanager_silence:
        matchers: "{{ matchers }}"
        duration: 2h
        comment: remediation takes longer
      register: longer
    - name: Expire
      sre.runbooks.alertmanager_silence:
        state: absent
        silence_id: "{{ created.silence_id }}"
      register: expired
    - name: Every run says what it did
      ansible.builtin.assert:
        that:
          - created.outcome == 'created' and created is changed
          - again.outcome == 'unchanged' and again is not changed
          - longer.outcome == 'extended' and longer is changed
          - expired.outcome == 'expired' and expired is changed
          - again.silence_id == created.silence_id == longer.silence_id == expired.silence_id
"""


def test_a_playbook_with_module_defaults_reports_each_action(
    alertmanager, scope, tmp_path, ansible_cli
):
    # The outcome of each step as a playbook sees it, in registered results.
    playbook = tmp_path / "remediation.yml"
    playbook.write_text(PLAYBOOK)
    extra = {"alertmanager_url": alertmanager.url, "scope": scope}
    completed = ansible_cli("ansible-playbook", str(playbook), "-e", json.dumps(extra))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    [on_server] = silences_of(alertmanager, scope)
    assert on_server["status"]["state"] == "expired"
