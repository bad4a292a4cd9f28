"""sre.runbooks.prometheus_chart against a real Prometheus with backfilled, exact series."""

import time
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.integration

MODULE = "sre.runbooks.prometheus_chart"
# The first two line colours of the chart palette, and the threshold line's colour.
BLUE = (78, 121, 167)
ORANGE = (242, 142, 43)
THRESHOLD = (192, 0, 0)
MARK = (55, 55, 55)

# Whole minutes, an hour ago: inside the retention, outside the head block's time range.
T0 = (int(time.time()) // 60) * 60 - 3600
T_END = T0 + 600


def _series(name: str, labels: str, values: list[str]) -> list[str]:
    return [f"{name}{{{labels}}} {value} {T0 + 60 * i}" for i, value in enumerate(values)]


SERIES = "\n".join(
    [
        *_series("demo_latency", 'pod="a"', [str(i) for i in range(1, 12)]),
        *_series("demo_latency", 'pod="b"', ["4"] * 11),
        *_series("demo_queue", 'queue="jobs"', ["10", "20", "30"]),
    ]
)


@pytest.fixture
def prometheus(prometheus_factory):
    return prometheus_factory(series=SERIES)


def colour_count(path: Path, fill: tuple[int, int, int]) -> int:
    with Image.open(path) as image:
        counts = image.convert("RGB").getcolors(maxcolors=image.width * image.height)
    return {colour: count for count, colour in counts}.get(fill, 0)


def test_chart_is_written_with_every_series_and_rerun_with_the_same_window_changes_nothing(
    prometheus, ansible_module, tmp_path
):
    path = tmp_path / "latency.png"
    args = {
        "url": prometheus.url,
        "query": "demo_latency",
        "start": T0,
        "end": T_END,
        "step": "1m",
        "threshold": 6,
        "label": "pod",
        "path": str(path),
    }
    result = ansible_module(MODULE, args)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["path"] == str(path)
    assert (result["series"], result["points"], result["dropped_series"]) == (2, 22, 0)
    assert (result["start"], result["end"], result["step"]) == (T0, T_END, 60.0)
    assert result["size_bytes"] == path.stat().st_size
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (800, 400)
    # Both lines and the dashed threshold line are drawn (legend swatches are 100 pixels each).
    assert colour_count(path, BLUE) > 500
    assert colour_count(path, ORANGE) > 500
    assert colour_count(path, THRESHOLD) > 300
    assert not list(tmp_path.glob(".latency.png.*"))  # no temporary file left behind

    written = path.stat().st_mtime_ns
    again = ansible_module(MODULE, args)
    assert again["changed"] is False
    assert again["size_bytes"] == result["size_bytes"]
    assert path.stat().st_mtime_ns == written


def test_marks_are_drawn_inside_the_window_and_a_bad_mark_fails(
    prometheus, ansible_module, tmp_path
):
    path = tmp_path / "marked.png"
    args = {
        "url": prometheus.url,
        "query": "demo_queue",
        "start": T0,
        "end": T0 + 180,
        "unit": "percent",
        "include_zero": True,
        "marks": [
            {"at": T0 + 60, "label": "rollback"},
            {"at": T0 + 3600, "label": "outside the window"},
        ],
        "path": str(path),
    }
    result = ansible_module(MODULE, args)
    assert result.get("failed") is not True, result.get("msg")
    assert colour_count(path, MARK) > 100  # one dashed line and its label
    assert colour_count(path, BLUE) > 100
    bad = ansible_module(MODULE, {**args, "marks": [{"at": "yesterday", "label": "x"}]})
    assert bad["failed"] is True
    assert bad["msg"].startswith("marks[0].at: 'yesterday' is not a time")


def test_check_mode_renders_but_writes_nothing(prometheus, ansible_module, tmp_path):
    charts = tmp_path / "charts"
    charts.mkdir()
    path = charts / "queue.png"
    args = {
        "url": prometheus.url,
        "query": "demo_queue",
        "start": T0,
        "end": T0 + 120,
        "path": str(path),
    }
    result = ansible_module(MODULE, args, check=True)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert result["series"] == 1
    assert result["step"] == 1.0  # two minutes, at most ~200 points: one a second
    assert result["points"] > 100
    assert result["size_bytes"] > 0
    assert not path.exists()
    assert list(charts.iterdir()) == []


def test_max_series_keeps_the_first_and_says_how_many_were_dropped(
    prometheus, ansible_module, tmp_path
):
    path = tmp_path / "one.png"
    result = ansible_module(
        MODULE,
        {
            "url": prometheus.url,
            "query": "demo_latency",
            "start": T0,
            "end": T_END,
            "max_series": 1,
            "width": 400,
            "height": 300,
            "title": "",
            "path": str(path),
        },
    )
    assert (result["series"], result["dropped_series"]) == (1, 1)
    assert result["warnings"] == [
        "The query returned 2 series; the chart shows the first 1 (max_series)"
    ]
    assert colour_count(path, BLUE) > 100
    assert colour_count(path, ORANGE) == 0
    with Image.open(path) as image:
        assert image.size == (400, 300)


def test_empty_result_writes_a_no_data_chart(prometheus, ansible_module, tmp_path):
    path = tmp_path / "absent.png"
    result = ansible_module(
        MODULE, {"url": prometheus.url, "query": "demo_absent_metric", "path": str(path)}
    )
    assert result["changed"] is True
    assert (result["series"], result["points"]) == (0, 0)
    assert result["end"] - result["start"] == 1800  # the default window: the last 30 minutes
    assert path.stat().st_size == result["size_bytes"]
    assert colour_count(path, BLUE) == 0


def test_promql_syntax_error_fails_with_prometheus_own_message(
    prometheus, ansible_module, tmp_path
):
    path = tmp_path / "bad.png"
    result = ansible_module(
        MODULE, {"url": prometheus.url, "query": "sum(rate(x[5m]", "path": str(path)}
    )
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Failed to run range query 'sum(rate(x[5m]': {prometheus.url}/api/v1/query_range "
        "answered HTTP 400: bad_data: "
    )
    assert "parse error" in result["msg"]
    assert not path.exists()


def test_stopped_server_fails_with_an_unreachable_message(
    prometheus_factory, ansible_module, tmp_path
):
    stopped = prometheus_factory()
    url = stopped.url
    stopped.stop()
    result = ansible_module(
        MODULE,
        {
            "url": url,
            "query": "up",
            "path": str(tmp_path / "up.png"),
            "timeout": 5,
            "retries": 1,
            "retry_backoff": 0.1,
        },
    )
    assert result["failed"] is True
    assert result["msg"].startswith(
        f"Failed to run range query 'up': {url}/api/v1/query_range: Prometheus unreachable: "
    )


def test_missing_directory_and_reversed_window_fail_before_drawing(
    prometheus, ansible_module, tmp_path
):
    missing = ansible_module(
        MODULE,
        {"url": prometheus.url, "query": "up", "path": str(tmp_path / "nowhere" / "up.png")},
    )
    assert missing["failed"] is True
    assert missing["msg"] == f"path: the directory {tmp_path / 'nowhere'} does not exist"
    reversed_window = ansible_module(
        MODULE,
        {
            "url": prometheus.url,
            "query": "up",
            "start": "now",
            "end": "-1h",
            "path": str(tmp_path / "up.png"),
        },
    )
    assert reversed_window["failed"] is True
    assert reversed_window["msg"].startswith("end: '-1h' is not after start 'now'")
