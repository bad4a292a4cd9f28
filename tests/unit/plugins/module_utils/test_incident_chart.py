"""Incident charts of module_utils/_chart.py: the window, the marks, the values with units."""

import io
import stat
from pathlib import Path
from typing import Any

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils._chart import (
    MARK,
    PALETTE,
    THRESHOLD,
    ChartInputError,
    chart_marks,
    incident_chart,
    incident_marks,
    incident_window,
    render_png,
    time_ticks,
)
from PIL import Image

FIRED = 1_714_564_800.0  # 2024-05-01T12:00:00Z


def ramp(start: float, end: float, step: float = 10) -> dict[str, Any]:
    """An error ratio: 0 until a minute before FIRED, 0.5 until FIRED + 60, then 0."""
    values, at = [], start
    while at <= end:
        value = 0.5 if FIRED - 60 <= at < FIRED + 60 else 0.0
        values.append([at, str(value)])
        at += step
    return {"labels": {}, "values": values}


def decode(png: bytes) -> Image.Image:
    return Image.open(io.BytesIO(png)).convert("RGB")


def columns_with(image: Image.Image, fill: tuple[int, int, int]) -> list[int]:
    pixels = image.load()
    return sorted(
        {x for x in range(image.width) for y in range(image.height) if pixels[x, y] == fill}
    )


def test_window_runs_from_before_the_alert_to_the_end_of_verification():
    assert incident_window(FIRED, FIRED + 600) == (FIRED - 300, FIRED + 600)
    # At least a minute before a short incident, at most 30 minutes before a long one.
    assert incident_window(FIRED, FIRED + 60) == (FIRED - 60, FIRED + 60)
    assert incident_window(FIRED, FIRED + 6 * 3600) == (FIRED - 1800, FIRED + 6 * 3600)
    assert incident_window(FIRED, FIRED + 600, "5m") == (FIRED - 300, FIRED + 600)
    assert incident_window(FIRED, FIRED + 600, 120) == (FIRED - 120, FIRED + 600)
    assert incident_window("2024-05-01T12:00:00Z", "2024-05-01T12:10:00Z", "1m") == (
        FIRED - 60,
        FIRED + 600,
    )


def test_window_without_verification_ends_now_and_without_a_start_covers_half_an_hour():
    assert incident_window(FIRED - 600, now=FIRED) == (FIRED - 900, FIRED)
    assert incident_window(None, now=FIRED) == (FIRED - 1800, FIRED)
    assert incident_window("", FIRED + 60, now=FIRED) == (FIRED + 60 - 1800, FIRED + 60)
    # Never narrower than 90 seconds; a start after the end (clock skew) is the end.
    assert incident_window(FIRED, FIRED + 5, 1) == (FIRED + 5 - 90, FIRED + 5)
    assert incident_window(FIRED + 100, FIRED, 1) == (FIRED - 90, FIRED)


def test_marks_are_the_alert_each_action_and_the_verification():
    report = {
        "actions": [
            {"action": "rollback", "at": "2024-05-01T12:00:30Z", "check_mode": False},
            {"action": "scale", "at": "2024-05-01T12:00:40Z", "check_mode": True},
            {"action": "never ran"},
        ],
        "timeline": [
            {"at": "2024-05-01T11:59:50Z", "phase": "assess", "event": "alert firing"},
            {"at": "2024-05-01T12:01:00Z", "phase": "verify", "event": "alert cleared"},
        ],
    }
    assert incident_marks(report, FIRED) == [
        (FIRED, "alert fired"),
        ("2024-05-01T12:00:30Z", "rollback"),
        ("2024-05-01T12:00:40Z", "scale (planned)"),
        ("2024-05-01T12:01:00Z", "alert cleared"),
    ]
    assert incident_marks({}) == []


def test_chart_marks_accept_mappings_and_pairs_inside_the_window():
    marks = [
        {"at": FIRED, "label": "rollback"},
        ("2024-05-01T12:01:00Z", "cleared"),
        {"at": "now-5m", "label": "relative"},
        {"at": FIRED - 3600, "label": "outside"},
    ]
    assert chart_marks(marks, FIRED - 600, FIRED + 600, now=FIRED) == [
        (FIRED, "rollback"),
        (FIRED + 60, "cleared"),
        (FIRED - 300, "relative"),
    ]
    with pytest.raises(ChartInputError, match=r"marks\[0\]"):
        chart_marks(["rollback"], FIRED - 600, FIRED)
    with pytest.raises(ChartInputError, match=r"marks\[0\]"):
        chart_marks([{"label": "no time"}], FIRED - 600, FIRED)


def test_time_ticks_are_round_and_fit():
    step, ticks = time_ticks(FIRED - 90, FIRED + 90, 8)
    assert step == 30
    assert ticks == [FIRED - 60, FIRED - 30, FIRED, FIRED + 30, FIRED + 60]
    step, ticks = time_ticks(FIRED, FIRED + 6 * 3600, 6)
    assert step == 3600
    assert len(ticks) == 5
    assert time_ticks(FIRED, FIRED + 1, 0)[1] == []


def test_incident_chart_marks_each_mitigation_where_it_happened(tmp_path: Path):
    start, end = incident_window(FIRED, FIRED + 120, 120)  # 4 minutes
    path = tmp_path / "chart.png"
    marks = [(FIRED, "alert fired"), (FIRED + 60, "rollback"), (FIRED + 3600, "outside")]
    png = incident_chart(
        [ramp(start, end)],
        start=start,
        end=end,
        marks=marks,
        threshold="0.05",
        title="HighErrorRate: api 5xx ratio",
        unit="ratio",
        path=str(path),
    )
    assert path.read_bytes() == png
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    image = decode(png)
    mark_columns = columns_with(image, MARK)
    # Two dashed lines two pixels wide, at FIRED and FIRED + 60 of the 4-minute window (labels
    # are in the same colour, so look for the columns with the most MARK pixels).
    pixels = image.load()
    counts = {x: sum(pixels[x, y] == MARK for y in range(image.height)) for x in mark_columns}
    lines = sorted(x for x, count in counts.items() if count > 100)
    assert len(lines) == 4
    left, right = 40, image.width - 14  # the plot's inner edges, roughly
    for x, at in ((lines[0], FIRED), (lines[2], FIRED + 60)):
        expected = left + (at - start) / (end - start) * (right - left)
        assert abs(x - expected) < 15
    assert columns_with(image, THRESHOLD)
    assert columns_with(image, PALETTE[0])


def test_incident_chart_starts_the_value_axis_at_zero_and_keeps_the_same_bytes():
    start, end = FIRED - 300, FIRED + 300
    high = {"labels": {}, "values": [[start + 10 * i, "0.9"] for i in range(61)]}
    first = incident_chart([high], start=start, end=end, unit="ratio", title="t")
    assert incident_chart([high], start=start, end=end, unit="ratio", title="t") == first
    plain = render_png([high], start, end, title="t")
    # A flat series sits in the middle of its own range; from zero it is at the top.
    rows = {
        name: [y for y in range(image.height) if image.getpixel((400, y)) == PALETTE[0]]
        for name, image in (("zero", decode(first)), ("plain", decode(plain)))
    }
    assert min(rows["zero"]) < min(rows["plain"]) - 50


def test_incident_chart_refuses_a_unit_it_does_not_know():
    with pytest.raises(ChartInputError, match="unit"):
        incident_chart([], start=FIRED - 60, end=FIRED, unit="furlongs")
