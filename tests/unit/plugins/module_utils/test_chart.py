"""Pure chart rendering of module_utils/_chart.py: PNG bytes decoded back with Pillow."""

import io
import math
from typing import Any

import pytest
from ansible_collections.sre.runbooks.plugins.module_utils._chart import (
    AXIS,
    PALETTE,
    THRESHOLD,
    ChartInputError,
    chart_window,
    colour,
    default_step,
    format_tick,
    limit_series,
    render_png,
    series_names,
    utc_clock,
)
from PIL import Image

START = 1_714_564_800.0  # 2024-05-01T12:00:00Z
END = START + 600
Pixels = set[tuple[int, int, int]]


def matrix(labels: dict[str, str], values: list[Any], step: float = 60) -> dict[str, Any]:
    return {
        "labels": labels,
        "values": [[START + step * i, value] for i, value in enumerate(values)],
    }


def decode(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    return image.convert("RGB")


def columns_with(image: Image.Image, fill: tuple[int, int, int], rows: range) -> set[int]:
    """x of every column that has ``fill`` in one of ``rows``."""
    pixels = image.load()
    return {x for x in range(image.width) for y in rows if pixels[x, y] == fill}


def plot_rows(image: Image.Image) -> range:
    """Rows of the plot area, found from its black axes (the y axis and the time axis)."""
    pixels = image.load()
    black = [
        (x, y) for x in range(image.width) for y in range(image.height) if pixels[x, y] == AXIS
    ]
    axis_x = max({x for x, _ in black}, key=lambda c: sum(x == c for x, _ in black))
    rows = [y for x, y in black if x == axis_x]
    return range(min(rows), max(rows))


RAMP = matrix({"__name__": "demo", "pod": "a"}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
FLAT = matrix({"__name__": "demo", "pod": "b"}, [4] * 11)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (0.052, "0.052"),
        (1, "1"),
        (12.5, "12.5"),
        (999, "999"),
        (1200, "1.2k"),
        (1234, "1.23k"),
        (123_456, "123k"),
        (2.4e6, "2.4e6"),
        (-2.4e6, "-2.4e6"),
        (1.234e-5, "1.23e-5"),
        (float("nan"), "NaN"),
        (float("inf"), "+Inf"),
    ],
)
def test_ticks_are_compact_with_at_most_three_significant_digits(value, text):
    assert format_tick(value) == text


def test_image_has_the_requested_size_and_a_white_background():
    image = decode(render_png([RAMP], START, END, width=640, height=300, title="demo"))
    assert image.size == (640, 300)
    assert image.getpixel((0, 0)) == (255, 255, 255)
    assert image.getpixel((639, 299)) == (255, 255, 255)


def test_each_series_is_drawn_across_the_plot_in_its_own_colour():
    image = decode(render_png([RAMP, FLAT], START, END, title="demo"))
    rows = plot_rows(image)
    for fill in PALETTE[:2]:
        columns = columns_with(image, fill, rows)
        # From the left edge of the window to its right edge (the legend is below these rows).
        assert min(columns) < 80
        assert max(columns) > image.width - 30
    # The ramp rises: its leftmost pixels are lower on the image than its rightmost ones.
    pixels = image.load()
    ramp_rows = [
        y
        for y in rows
        for x in (min(columns_with(image, PALETTE[0], rows)),)
        if pixels[x, y] == PALETTE[0]
    ]
    right = max(columns_with(image, PALETTE[0], rows))
    assert min(ramp_rows) > min(y for y in rows if pixels[right, y] == PALETTE[0])


def test_the_same_input_gives_the_same_bytes():
    first = render_png([RAMP, FLAT], START, END, title="demo", threshold=5)
    assert render_png([RAMP, FLAT], START, END, title="demo", threshold=5) == first
    assert render_png([RAMP, FLAT], START, END, title="demo", threshold=6) != first


def test_threshold_is_a_dashed_horizontal_line():
    image = decode(render_png([RAMP], START, END, threshold=6))
    pixels = image.load()
    rows = plot_rows(image)
    counts = {y: sum(pixels[x, y] == THRESHOLD for x in range(image.width)) for y in rows}
    line = max(counts, key=counts.__getitem__)
    run = [pixels[x, line] == THRESHOLD for x in range(60, image.width - 60)]
    assert sum(run) > len(run) / 2  # mostly drawn...
    assert not all(run)  # ...with gaps: dashed
    # Halfway between 1 and 11 on the value axis: halfway down the plot.
    ramp_rows = [y for y in rows for x in range(image.width) if pixels[x, y] == PALETTE[0]]
    assert abs(line - (min(ramp_rows) + max(ramp_rows)) / 2) < 4


def test_threshold_outside_the_values_widens_the_axis():
    without = decode(render_png([FLAT], START, END))
    with_line = decode(render_png([FLAT], START, END, threshold=100))
    assert columns_with(with_line, THRESHOLD, plot_rows(with_line))
    flat_rows = [
        {y for y in plot_rows(image) if image.getpixel((400, y)) == PALETTE[0]}
        for image in (without, with_line)
    ]
    # A flat series alone sits mid-plot; with a threshold of 100 it drops to the bottom.
    assert min(flat_rows[1]) > min(flat_rows[0]) + 50


def test_nan_and_inf_points_break_the_line():
    values = [1, 2, 3, "NaN", "NaN", "+Inf", 7, 8, 9, 10, 11]
    image = decode(render_png([matrix({"pod": "a"}, values)], START, END))
    columns = columns_with(image, PALETTE[0], plot_rows(image))
    width = image.width
    # Points 3 to 5 (of 0 to 10 across the plot) are not drawn, points before and after are.
    gap = {x for x in range(width) if 0.36 * width < x < 0.52 * width}
    assert not columns & gap
    assert columns & {x for x in range(width) if x < 0.25 * width}
    assert columns & {x for x in range(width) if x > 0.7 * width}


def test_a_missing_step_breaks_the_line_when_the_step_is_known():
    series = matrix({"pod": "a"}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    del series["values"][4:7]
    image = decode(render_png([series], START, END, step=60))
    columns = columns_with(image, PALETTE[0], plot_rows(image))
    assert not columns & {x for x in range(image.width) if 0.45 * 800 < x < 0.55 * 800}
    joined = decode(render_png([series], START, END))
    assert columns_with(joined, PALETTE[0], plot_rows(joined)) & {400}


def test_empty_result_still_draws_a_chart_that_says_no_data():
    empty = decode(render_png([], START, END, title="demo_absent_metric"))
    assert empty.size == (800, 400)
    assert not any(columns_with(empty, fill, plot_rows(empty)) for fill in PALETTE)
    blank = decode(render_png([], START, END, title=""))
    # Text in the middle of the plot ("no data"), none where lines would be.
    middle = [empty.getpixel((x, y)) for x in range(330, 470) for y in range(190, 230)]
    assert any(pixel != (255, 255, 255) for pixel in middle)
    assert blank.getpixel((400, 15)) == (255, 255, 255)  # no title


def test_only_non_finite_values_is_no_data_too():
    png = render_png([matrix({"pod": "a"}, ["NaN"] * 11)], START, END, threshold=1)
    image = decode(png)
    assert not columns_with(image, THRESHOLD, plot_rows(image))


def test_many_series_get_distinct_colours_and_a_note_on_dropped_ones():
    colours = [colour(index) for index in range(30)]
    assert len(set(colours)) == 30
    assert THRESHOLD not in colours
    series = [matrix({"pod": str(i)}, [i, i + 1, i + 2]) for i in range(12)]
    kept, dropped = limit_series(series, 10)
    assert (len(kept), dropped) == (10, 2)
    image = decode(render_png(kept, START, END, dropped=dropped))
    rows = plot_rows(image)
    assert all(columns_with(image, fill, rows) for fill in PALETTE)


def test_legend_names_use_the_label_or_only_the_labels_that_differ():
    series = [
        matrix({"__name__": "up", "job": "api", "pod": "a"}, [1]),
        matrix({"__name__": "up", "job": "api", "pod": "b"}, [1]),
    ]
    assert series_names(series) == ["pod=a", "pod=b"]
    assert series_names(series, name="targets up") == ["pod=a", "pod=b"]
    assert series_names(series, label="pod") == ["a", "b"]
    assert series_names(series, label="absent") == ["pod=a", "pod=b"]
    # A label one series lacks tells them apart too; so does the metric name.
    mixed = [matrix({"__name__": "up", "pod": "a"}, [1]), matrix({"__name__": "down"}, [1])]
    assert series_names(mixed) == ["up{pod=a}", "down"]
    assert series_names(series[:2] + series[:1], name="targets up") == [
        "pod=a",
        "pod=b",
        "pod=a",
    ]


def test_a_single_series_is_named_by_the_query_title_never_empty_braces():
    assert series_names([matrix({}, [1])], name="nimify-api 5xx ratio") == ["nimify-api 5xx ratio"]
    assert series_names([matrix({"job": "api"}, [1])], name="errors") == ["errors"]
    assert series_names([matrix({}, [1])]) == ["value"]
    assert series_names([matrix({"__name__": "up"}, [1])]) == ["up"]
    assert series_names([matrix({"__name__": "up", "job": "api", "pod": "a"}, [1])]) == [
        "up{job=api, pod=a}"
    ]
    same = [matrix({"job": "api"}, [1]), matrix({"job": "api"}, [2])]
    assert series_names(same, name="errors") == ["errors", "errors"]
    assert series_names(same) == ["job=api", "job=api"]


def test_window_resolves_relative_times_once_and_picks_about_200_points():
    assert chart_window("-30m", "now", now=START) == (START - 1800, START, 9.0)
    assert chart_window(START - 100, START, "15s") == (START - 100, START, 15.0)
    assert chart_window("2024-05-01T11:00:00Z", "2024-05-01T12:00:00Z") == (
        START - 3600,
        START,
        18.0,
    )
    assert default_step(0, 50) == 1.0
    with pytest.raises(ChartInputError, match="not after start"):
        chart_window("now", "-1h", now=START)


def test_sizes_and_thresholds_that_cannot_be_drawn_are_refused():
    with pytest.raises(ChartInputError, match="width and height"):
        render_png([RAMP], START, END, width=50)
    with pytest.raises(ChartInputError, match="threshold"):
        render_png([RAMP], START, END, threshold=math.inf)
    with pytest.raises(ChartInputError, match="range series"):
        render_png([{"labels": {}, "value": 1.0}], START, END)
    with pytest.raises(ChartInputError, match="max_series"):
        limit_series([RAMP], 0)


def test_time_labels_are_utc_clock_times():
    assert utc_clock(START) == "12:00:00"
    assert utc_clock(START + 3661.7) == "13:01:01"
