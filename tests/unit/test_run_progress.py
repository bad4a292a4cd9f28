"""Progress from synthetic ansible-runner events, and the summary of a sample report.json."""

import io

from sre_runbooks.progress import Progress
from sre_runbooks.report import summary_lines


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def event(kind: str, **data: object) -> dict:
    return {"event": kind, "event_data": data}


def feed(progress: Progress, events: list[dict]) -> None:
    for item in events:
        assert progress(item) is True


TASK = {"task": "Scale up", "role": "high_error_rate", "task_uuid": "u1"}


def test_tasks_start_and_end_with_status_and_duration():
    stream = io.StringIO()
    clock = Clock()
    progress = Progress(stream, tty=False, clock=clock)
    feed(progress, [event("playbook_on_play_start", play="Remediate")])
    feed(progress, [event("playbook_on_task_start", **TASK)])
    clock.now += 2.5
    feed(
        progress,
        [
            event("runner_on_ok", host="sandbox", res={"changed": True}, **TASK),
            event("playbook_on_task_start", task="Check", task_uuid="u2"),
            event("runner_on_skipped", host="sandbox", task="Check", task_uuid="u2", duration=0.01),
            event("playbook_on_task_start", task="Break", task_uuid="u3"),
            event(
                "runner_on_failed",
                host="sandbox",
                task="Break",
                task_uuid="u3",
                duration=1.0,
                res={"msg": "boom\nmore"},
            ),
            event("playbook_on_task_start", task="Try", task_uuid="u4"),
            event(
                "runner_on_failed",
                host="sandbox",
                task="Try",
                task_uuid="u4",
                duration=0.2,
                ignore_errors=True,
                res={},
            ),
        ],
    )
    lines = stream.getvalue().splitlines()
    assert lines[0] == "play: Remediate"
    assert lines[1] == "  ...      high_error_rate : Scale up"
    assert lines[2] == "  changed  high_error_rate : Scale up  2.5s  [sandbox]"
    assert "  skipped  Check  0.0s  [sandbox]" in lines
    assert "  failed   Break  1.0s  [sandbox]" in lines
    assert "           boom" in lines
    assert "  ignored  Try  0.2s  [sandbox]" in lines


def retries(count: int) -> list[dict]:
    return [
        event("runner_retry", res={"attempts": attempt, "retries": 31}, **TASK)
        for attempt in range(2, count + 2)
    ]


def test_retries_without_a_terminal_print_the_first_and_every_tenth():
    stream = io.StringIO()
    progress = Progress(stream, tty=False)
    feed(progress, retries(25))
    lines = stream.getvalue().splitlines()
    assert lines == [
        "  waiting  high_error_rate : Scale up  attempt 2/31",
        "  waiting  high_error_rate : Scale up  attempt 10/31",
        "  waiting  high_error_rate : Scale up  attempt 20/31",
    ]


def test_retries_on_a_terminal_update_one_line_with_a_spinner():
    stream = io.StringIO()
    progress = Progress(stream, tty=True)
    feed(progress, retries(3))
    feed(progress, [event("runner_on_ok", host="h", duration=3.0, **TASK)])
    text = stream.getvalue()
    assert text.count("\n") == 1
    assert text.count("\r\x1b[K") == 3
    assert "attempt 4/31" in text
    assert text.endswith("  ok       high_error_rate : Scale up  3.0s  [h]\n")


def test_stats_close_a_waiting_line():
    stream = io.StringIO()
    progress = Progress(stream, tty=False)
    progress._write("waiting", transient=True)
    feed(progress, [event("playbook_on_stats")])
    assert stream.getvalue() == "waiting\n"


SAMPLE = {
    "run_id": "20261123T004512Z-higherrorrate-3f9a",
    "alert": "HighErrorRate",
    "system": "nimify",
    "role": "high_error_rate",
    "cluster": "sandbox",
    "target": {"kind": "Deployment", "namespace": "nimify-system", "name": "nimify-api"},
    "check_mode": False,
    "outcome": "unresolved",
    "findings": {"error_rate": 0.12, "ready_replicas": 1, "desired_replicas": 3},
    "investigation": [{"step": "error rate", "result": "12%"}],
    "decisions": [
        {
            "action": "rollback",
            "description": "roll back to revision 3",
            "risky": True,
            "status": "awaiting_approval",
        },
        {
            "action": "restart",
            "description": "restart crashing pods",
            "risky": False,
            "status": "applied",
        },
    ],
    "actions": [
        {
            "action": "restart",
            "object": {"kind": "Pod", "namespace": "nimify-system", "name": "nimify-api-1"},
            "before": "CrashLoopBackOff",
            "after": "Running",
            "changed": True,
        },
    ],
    "verification": {"recovered": False, "seconds": 300, "query": "rate(errors[5m])"},
    "timeline": [],
    "silence_id": "abc-123",
    "escalation": [{"after": "10m", "to": "Engineering team lead"}],
    "started_at": "2026-11-23T00:45:12Z",
    "finished_at": "2026-11-23T00:50:12Z",
    "message": "error rate still 12% after restarting pods",
}


def test_summary_of_a_sample_report():
    lines = summary_lines(SAMPLE, "/r/report.json", "/r/report.md")
    text = "\n".join(lines)
    assert lines[0] == "HighErrorRate (nimify) on sandbox: unresolved"
    assert "target:       Deployment nimify-system/nimify-api" in text
    assert "error_rate=0.12" in text
    assert "[awaiting_approval] rollback: roll back to revision 3 (risky)" in text
    assert "[applied] restart: restart crashing pods" in text
    assert (
        "restart on Pod nimify-system/nimify-api-1: CrashLoopBackOff -> Running (changed)" in text
    )
    assert "verification: not recovered after 300s  (rate(errors[5m]))" in text
    assert "silence:      abc-123" in text
    assert "escalation:   after 10m Engineering team lead" in text
    assert "report:       /r/report.md" in text
    assert "report json:  /r/report.json" in text


def test_summary_in_check_mode_and_of_a_sparse_report():
    planned = {**SAMPLE, "check_mode": True, "outcome": "planned"}
    text = "\n".join(summary_lines(planned, None, None))
    assert text.splitlines()[0].endswith("planned [check mode]")
    assert "actions (planned):" in text
    sparse = summary_lines({"outcome": "failed", "findings": "oops", "decisions": [1]}, None, None)
    assert sparse[0] == "? (?) on ?: failed"


def test_summary_names_nested_findings_and_hides_escalation_when_nothing_is_wrong():
    report = {
        **SAMPLE,
        "outcome": "not_firing",
        "findings": {"firing": False, "metrics": {"error_ratio": 0.012345}, "alerts": []},
    }
    text = "\n".join(summary_lines(report, None, None))
    assert "findings:     firing=False, error_ratio=0.0123; details: alerts" in text
    assert "escalation" not in text


def test_one_line_per_phase_and_per_mitigation_without_plumbing() -> None:
    stream = io.StringIO()
    progress = Progress(stream, tty=False)
    assess = "sre.runbooks.remediation_assess"
    for item in [
        event(
            "playbook_on_task_start",
            task="Validating arguments",
            task_uuid="v",
            task_action="ansible.builtin.validate_argument_spec",
        ),
        event(
            "runner_on_ok",
            host="sandbox",
            task="Validating arguments",
            task_uuid="v",
            task_action="ansible.builtin.validate_argument_spec",
            res={},
        ),
        event(
            "playbook_on_task_start", task="Assess and decide", task_uuid="a", task_action=assess
        ),
        event(
            "runner_on_ok",
            host="sandbox",
            task="Assess and decide",
            task_uuid="a",
            task_action=assess,
            duration=0.7,
            res={"msg": "planned: rollback"},
        ),
        event(
            "runner_item_on_ok",
            host="sandbox",
            task="Mitigate",
            task_uuid="m",
            res={
                "changed": True,
                "_ansible_item_label": "rollback",
                "msg": "revision 2 -> revision 3",
            },
        ),
    ]:
        progress.handle(item)
    lines = stream.getvalue().splitlines()
    assert not any("Validating" in line for line in lines)
    assert "  ok       Assess and decide  0.7s  [sandbox]" in lines
    assert "           planned: rollback" in lines
    assert "    changed  rollback: revision 2 -> revision 3" in lines
