# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PNG line charts of range query results for the prometheus_chart module and reports (private).

``render_png()`` turns normalised matrix series (as ``prometheus.parse_data()`` returns them) into
PNG bytes with Pillow; ``chart_window()`` resolves the time window and step. ``incident_window()``
fits a window to an incident and ``incident_chart()`` draws it with each mitigation marked. All
are pure, so unit tests call them without a server. The same input always gives the same bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import math
import os
import tempfile
import time as _time
import traceback
from collections.abc import Mapping

from ansible_collections.sre.runbooks.plugins.module_utils._report import (
    formatter,
    significant,
    timestamp,
)
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    describe,
    parse_duration,
    parse_time,
)

PIL_IMPORT_ERROR = None
try:
    from PIL import Image, ImageDraw, ImageFont
except ImportError:
    HAS_PIL = False
    PIL_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_PIL = True

# Points a chart aims for when no step is given.
TARGET_POINTS = 200
MIN_SIZE = (200, 150)
MAX_SIZE = (8000, 8000)

WHITE = (255, 255, 255)
TEXT = (33, 33, 33)
AXIS = (0, 0, 0)
GRID = (224, 224, 224)
MUTED = (110, 110, 110)
THRESHOLD = (192, 0, 0)
# Mitigations and other moments marked on the time axis.
MARK = (55, 55, 55)
# Tableau 10: distinct on white and for common colour blindness; none equals THRESHOLD.
PALETTE = (
    (78, 121, 167),
    (242, 142, 43),
    (225, 87, 89),
    (118, 183, 178),
    (89, 161, 79),
    (237, 201, 72),
    (176, 122, 161),
    (255, 157, 167),
    (156, 117, 95),
    (186, 176, 172),
)

MARGIN = 10
TITLE_SIZE = 16
LABEL_SIZE = 12
LINE_WIDTH = 2
# Inner padding of the plot area, so lines at the minimum or maximum do not cover the axes.
PLOT_PADDING = 4
DASH = (6, 4)
MARK_DASH = (4, 3)
# Seconds between time ticks, the first that leaves room for every label is used.
TICK_STEPS = (
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
)
# Units charts know (as _report.unit_of names them).
UNITS = ("ratio", "percent", "seconds", "bytes", "bytes/s", "cpu")


class ChartInputError(ValueError):
    """An option value a chart cannot be drawn with (window, size, series)."""


# Numbers, names and windows ---------------------------------------------------------------------


def format_tick(value):
    """A number as an axis label, at most three significant digits: 0.052, 1.2k, 2.4e6."""
    return significant(value)


def sample_number(value):
    """A normalised sample value (a float, or "NaN", "+Inf", "-Inf") as a float."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def series_name(labels, label=None, shown=None, name=None):
    """The legend entry of a series: ``label``'s value, else the labels in ``shown`` as
    ``a=x, b=y`` (the metric name first when it is one of them), else ``name``, else all its
    labels as ``metric{a=x}``."""
    if label and label in labels:
        return str(labels[label])
    if shown is None:
        shown = sorted(labels)
    metric = str(labels.get("__name__", "")) if "__name__" in shown else ""
    pairs = ", ".join(
        "%s=%s" % (key, labels[key]) for key in shown if key != "__name__" and key in labels
    )
    if metric:
        text = "%s{%s}" % (metric, pairs) if pairs else metric
    elif pairs or name:
        text = pairs or name
    elif set(labels) - {"__name__"}:
        text = series_name(labels, shown=sorted(key for key in labels if key != "__name__"))
    else:
        text = str(labels.get("__name__") or "value")
    return text


def distinguishing_labels(series):
    """Names of the labels whose values differ between ``series`` (a missing label counts)."""
    if len(series) < 2:
        return []
    keys = sorted({key for one in series for key in one["labels"]})
    return [key for key in keys if len({one["labels"].get(key) for one in series}) > 1]


def series_names(series, label=None, name=None):
    """Legend entries: ``label``'s value, else the labels that tell the series apart; a single
    series (or several that no label tells apart) is ``name``, the query's title."""
    shown = distinguishing_labels(series)
    if len(series) == 1 and name:
        shown = []
    elif len(series) == 1:
        shown = None
    return [series_name(one["labels"], label, shown, name) for one in series]


def default_step(start, end, points=TARGET_POINTS):
    """Whole seconds (at least 1) between points so that ``start`` to ``end`` has ~``points``."""
    return float(max(1, math.ceil((end - start) / float(points))))


def chart_window(start, end, step=None, now=None):
    """``(start, end, step)`` in seconds from what a user writes; relative times share ``now``."""
    now = _time.time() if now is None else now
    start_seconds = parse_time(start, now, "start")
    end_seconds = parse_time(end, now, "end")
    if start_seconds is None or end_seconds is None:
        raise ChartInputError("start and end: give both")
    if end_seconds <= start_seconds:
        raise ChartInputError(
            "end: %r is not after start %r; a chart needs a window" % (end, start)
        )
    if step is None:
        step_seconds = default_step(start_seconds, end_seconds)
    else:
        step_seconds = parse_duration(step)
    return start_seconds, end_seconds, step_seconds


def limit_series(series, max_series):
    """``(kept, dropped)``: the first ``max_series`` series and how many were left out."""
    if max_series < 1:
        raise ChartInputError("max_series: must be at least 1, not %r" % (max_series,))
    return series[:max_series], max(0, len(series) - max_series)


def utc_clock(seconds):
    """Unix seconds as ``HH:MM:SS`` in UTC."""
    return _time.strftime("%H:%M:%S", _time.gmtime(seconds))


def colour(index):
    """The line colour of the series at ``index``: the palette, then hues spread evenly."""
    if index < len(PALETTE):
        return PALETTE[index]
    hue = (index * 0.618033988749895) % 1.0
    rgb = _hsv(hue, 0.65, 0.75)
    return rgb if rgb != THRESHOLD else (rgb[0], rgb[1], rgb[2] + 1)


def _hsv(hue, saturation, value):
    sector = int(hue * 6) % 6
    fraction = hue * 6 - int(hue * 6)
    p, q, t = (
        value * (1 - saturation),
        value * (1 - fraction * saturation),
        value * (1 - (1 - fraction) * saturation),
    )
    r, g, b = (
        (value, t, p),
        (q, value, p),
        (p, value, t),
        (p, q, value),
        (t, p, value),
        (value, p, q),
    )[sector]
    return (int(r * 255), int(g * 255), int(b * 255))


def _runs(values, step=None):
    """Runs of consecutive finite ``(timestamp, value)`` points.

    A non-finite value ends a run, and so does a gap of more than 1.5 steps between samples
    (Prometheus leaves out the steps where a series has no sample).
    """
    runs, current, previous = [], [], None
    for stamp, raw in values:
        timestamp = float(stamp)
        number = sample_number(raw)
        gap = step is not None and previous is not None and timestamp - previous > 1.5 * step
        if math.isnan(number) or math.isinf(number) or gap:
            if current:
                runs.append(current)
            current = []
        if not (math.isnan(number) or math.isinf(number)):
            current.append((timestamp, number))
        previous = timestamp
    if current:
        runs.append(current)
    return runs


def value_range(series, threshold=None, include_zero=False):
    """``(low, high)`` of the y axis: every finite value and the threshold (and 0 when
    ``include_zero`` and no value is negative); None without data."""
    numbers = [
        number
        for one in series
        for _timestamp, raw in one["values"]
        for number in (sample_number(raw),)
        if not (math.isnan(number) or math.isinf(number))
    ]
    if not numbers:
        return None
    if threshold is not None and not (math.isnan(threshold) or math.isinf(threshold)):
        numbers.append(float(threshold))
    if include_zero and min(numbers) > 0:
        numbers.append(0.0)
    low, high = min(numbers), max(numbers)
    if low == high:
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    return low, high


# Drawing ----------------------------------------------------------------------------------------


def _font(size):
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow before 10.1: one bitmap size only
        return ImageFont.load_default()


def _text_size(draw, text, font):
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font)
    return right - left, bottom - top


def _fit(draw, text, font, width):
    """``text`` shortened with "..." to at most ``width`` pixels."""
    if width <= 0:
        return ""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..." if text else ""


def _dashed_hline(draw, left, right, y, fill):
    x = left
    on, off = DASH
    while x <= right:
        draw.line([(x, y), (min(x + on - 1, right), y)], fill=fill, width=LINE_WIDTH)
        x += on + off


def _legend_rows(draw, entries, font, width):
    """Entries ``(colour or None, text)`` laid out in rows that fit ``width``."""
    swatch, gap = 14, 16
    rows, row, used = [], [], 0
    for fill, name in entries:
        text = _fit(draw, name, font, max(40, width // 2 - swatch - gap))
        size = (swatch if fill else 0) + int(draw.textlength(text, font=font)) + gap
        if row and used + size > width:
            rows.append(row)
            row, used = [], 0
        row.append((fill, text, size))
        used += size
    if row:
        rows.append(row)
    return rows


def render_png(
    series,
    start,
    end,
    *,
    title="",
    threshold=None,
    width=800,
    height=400,
    label=None,
    dropped=0,
    step=None,
    marks=(),
    unit=None,
    name=None,
    include_zero=False,
):
    """PNG bytes of ``series`` (normalised matrix series) drawn from ``start`` to ``end``.

    Each series is a line in its own colour with a legend entry (``series_names()``, ``name``
    for a single series); non-finite values and missing steps break the line. ``threshold`` is a
    dashed horizontal line with its value; ``marks``, ``(unix seconds, label)`` pairs, are
    dashed vertical lines with their labels at the top; ``unit`` (one of ``UNITS``) formats the
    values (``50%``, ``243 ms``). ``dropped`` adds a legend note on series left out. Without any
    finite value the plot says "no data".
    """
    _check_input(series, start, end, threshold, (width, height))
    value_text = formatter(unit) if unit else format_tick
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    title_font, font = _font(TITLE_SIZE), _font(LABEL_SIZE)
    line_height = _text_size(draw, "0:Hg", font)[1] + 4
    top = _draw_title(draw, title, title_font, width)

    names = series_names(series, label, name)
    entries = [(colour(index), one) for index, one in enumerate(names)]
    if dropped:
        entries.append((None, "+%d more series not shown" % dropped))
    rows = _legend_rows(draw, entries, font, width - 2 * MARGIN)
    legend_top = height - MARGIN - len(rows) * line_height

    y_range = value_range(series, threshold, include_zero)
    y_ticks = [(value, value_text(value)) for value in _value_ticks(y_range, legend_top - top)]
    label_width = max([int(draw.textlength(text, font=font)) for _value, text in y_ticks] or [0])
    left, right = MARGIN + label_width + 6, width - MARGIN - 1
    # Mark labels go in rows above the plot, where they hide no line.
    placed = _place_marks(draw, marks, (start, end), (left, right), font)
    mark_rows = max([row + 1 for _x, row, _left, _text in placed] or [0])
    if mark_rows:
        top += 4
    marks_top = top
    top += mark_rows * line_height
    # Left, top (with room for the top tick label), right, bottom of the plot area.
    box = (left, top + line_height // 2, right, legend_top - line_height - 6)
    if box[3] - box[1] < 40:
        raise ChartInputError(
            "height: %d pixels leave no room for the plot; raise height or lower max_series"
            % height
        )
    inner = (
        box[0] + PLOT_PADDING,
        box[1] + PLOT_PADDING,
        box[2] - PLOT_PADDING,
        box[3] - PLOT_PADDING,
    )
    if y_range is not None:
        _value_grid(draw, y_ticks, y_range, (box, inner), font)
    _draw_frame(draw, box, inner, (start, end), font)
    if y_range is None:
        _draw_centred(draw, box, "no data", title_font)
    else:
        _plot(draw, series, (start, end), y_range, inner, threshold=threshold, step=step)
        if threshold is not None:
            _threshold_label(draw, threshold, y_range, inner, font, value_text=value_text)
    _draw_marks(draw, placed, box, font, top=marks_top, line_height=line_height)

    _draw_legend(draw, rows, legend_top, line_height, font)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=False)
    return output.getvalue()


def _value_ticks(y_range, height):
    """Values labelled on the y axis: the lowest and highest, and the middle one when tall."""
    if y_range is None:
        return []
    low, high = y_range
    return [low, (low + high) / 2.0, high] if height >= 200 else [low, high]


def _value_grid(draw, ticks, y_range, boxes, font):
    """A label left of the plot for each ``(value, text)`` of ``ticks``, and a grid line for each
    inside the plot."""
    box, inner = boxes
    point = _scale((0, 1), y_range, inner)
    for value, text in ticks:
        y = point(0, value)[1]
        if box[1] < y < box[3] - 1:
            draw.line([(box[0] + 1, y), (box[2] - 1, y)], fill=GRID, width=1)
        text_width, text_height = _text_size(draw, text, font)
        draw.text((box[0] - 4 - text_width, y - text_height // 2 - 2), text, fill=TEXT, font=font)


def time_ticks(start, end, room):
    """``(step, [unix seconds])``: whole multiples of a round step strictly inside the window,
    at most ``room`` of them."""
    room = max(1, int(room))
    for tick_step in TICK_STEPS:
        if (end - start) / tick_step <= room + 1:
            break
    first = math.floor(start / tick_step) * tick_step + tick_step
    ticks = []
    while first < end and len(ticks) < room:
        ticks.append(first)
        first += tick_step
    return tick_step, ticks


def _check_input(series, start, end, threshold, size):
    if not HAS_PIL:
        raise ChartInputError("rendering needs the Python library pillow")
    width, height = size
    if not (MIN_SIZE[0] <= width <= MAX_SIZE[0] and MIN_SIZE[1] <= height <= MAX_SIZE[1]):
        raise ChartInputError(
            "width and height: %dx%d is outside %dx%d to %dx%d"
            % (width, height, *MIN_SIZE, *MAX_SIZE)
        )
    if end <= start:
        raise ChartInputError("end: must be after start")
    if threshold is not None and (math.isnan(threshold) or math.isinf(threshold)):
        raise ChartInputError("threshold: give a finite number, not %r" % (threshold,))
    if any("values" not in one for one in series):
        raise ChartInputError("a chart needs range series (a matrix), not instant values")


def _draw_title(draw, title, font, width):
    """Draw the centred title; returns the first free row below it."""
    if not title:
        return MARGIN
    title = _fit(draw, title, font, width - 2 * MARGIN)
    title_width, title_height = _text_size(draw, title, font)
    draw.text(((width - title_width) // 2, MARGIN), title, fill=TEXT, font=font)
    return MARGIN + title_height + 10


def _draw_frame(draw, box, inner, window, font):
    """The plot's frame, its axes, the start and end times below it and round times between."""
    left, top, right, bottom = box
    draw.rectangle([left, top, right, bottom], outline=GRID)
    start_label = utc_clock(window[0])
    end_label = utc_clock(window[1]) + " UTC"
    end_width = int(draw.textlength(end_label, font=font))
    label_width = int(draw.textlength("00:00:00", font=font)) + 24
    tick_step, ticks = time_ticks(window[0], window[1], (right - left) // label_width - 1)
    point = _scale(window, (0, 1), inner)
    free = (left + label_width, right - end_width - 12)
    for tick in ticks:
        x = point(tick, 0)[0]
        draw.line([(x, top + 1), (x, bottom - 1)], fill=GRID, width=1)
        draw.line([(x, bottom + 1), (x, bottom + 3)], fill=MUTED, width=1)
        text = utc_clock(tick)[: 5 if tick_step % 60 == 0 else 8]
        text_width = int(draw.textlength(text, font=font))
        if free[0] <= x - text_width // 2 and x + text_width // 2 <= free[1]:
            draw.text((x - text_width // 2, bottom + 4), text, fill=MUTED, font=font)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=AXIS, width=1)
    draw.text((left, bottom + 4), start_label, fill=TEXT, font=font)
    draw.text((right - end_width, bottom + 4), end_label, fill=TEXT, font=font)


def _dashed_vline(draw, x, top, bottom, fill):
    y = top
    on, off = MARK_DASH
    while y <= bottom:
        draw.line([(x, y), (x, min(y + on - 1, bottom))], fill=fill, width=LINE_WIDTH)
        y += on + off


def _place_marks(draw, marks, window, sides, font):
    """``[(x, row, left, text)]``: where each mark's line and label go. A label starts right of
    its line (left of it at the right edge); one that would overlap another goes a row up."""
    left_side, right_side = sides
    point = _scale(window, (0, 1), (left_side + PLOT_PADDING, 0, right_side - PLOT_PADDING, 1))
    placed = []
    for at, label in sorted(marks, key=lambda mark: mark[0]):
        x = point(at, 0)[0]
        text = _fit(draw, str(label), font, (right_side - left_side) // 2)
        text_width = int(draw.textlength(text, font=font))
        left = x + 4 if x + 4 + text_width <= right_side else x - 4 - text_width
        row = 0
        while any(
            other == row
            and left - 8 < other_left + other_width
            and other_left < left + text_width + 8
            for _x, other, other_left, other_text in placed
            for other_width in (int(draw.textlength(other_text, font=font)),)
        ):
            row += 1
        placed.append((x, row, left, text))
    return placed


def _draw_marks(draw, placed, box, font, *, top, line_height):
    """The marks ``_place_marks()`` laid out: dashed vertical lines over the plot, from their
    labels in rows above it (row 0 nearest the plot)."""
    rows = max([row + 1 for _x, row, _left, _text in placed] or [0])
    for x, row, _left, _text in placed:
        _dashed_vline(draw, x, top + (rows - 1 - row) * line_height + 2, box[3] - 1, MARK)
    # Labels last, on white, so that no other mark's line runs through one.
    for _x, row, left, text in placed:
        y = top + (rows - 1 - row) * line_height
        right = left + int(draw.textlength(text, font=font))
        draw.rectangle([left - 2, y, right + 2, y + line_height - 3], fill=WHITE)
        draw.text((left, y), text, fill=MARK, font=font)


def _draw_centred(draw, box, text, font):
    text_width, text_height = _text_size(draw, text, font)
    position = ((box[0] + box[2] - text_width) // 2, (box[1] + box[3] - text_height) // 2)
    draw.text(position, text, fill=MUTED, font=font)


def _scale(window, y_range, inner):
    (start, end), (low, high) = window, y_range
    x0, y0, x1, y1 = inner

    def point(timestamp, value):
        x = x0 + (timestamp - start) / (end - start) * (x1 - x0)
        y = y1 - (value - low) / (high - low) * (y1 - y0)
        return (round(x), round(y))

    return point


def _plot(draw, series, window, y_range, inner, *, threshold=None, step=None):
    point = _scale(window, y_range, inner)
    for index, one in enumerate(series):
        fill = colour(index)
        values = [value for value in one["values"] if window[0] <= float(value[0]) <= window[1]]
        for run in _runs(values, step):
            pixels = [point(timestamp, value) for timestamp, value in run]
            if len(pixels) == 1:
                x, y = pixels[0]
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=fill)
            else:
                draw.line(pixels, fill=fill, width=LINE_WIDTH, joint="curve")
    if threshold is not None and y_range[0] <= threshold <= y_range[1]:
        _dashed_hline(draw, inner[0], inner[2], point(window[0], threshold)[1], THRESHOLD)


def _threshold_label(draw, threshold, y_range, inner, font, *, value_text=format_tick):
    y = _scale((0, 1), y_range, inner)(0, threshold)[1]
    text = "threshold %s" % value_text(threshold)
    text_height = _text_size(draw, text, font)[1]
    # Above the line, or below it when the line is at the top of the plot; at the left, where
    # the time before the incident leaves room.
    text_y = y - text_height - 6 if y - text_height - 6 >= inner[1] else y + 4
    draw.text((inner[0] + 4, text_y), text, fill=THRESHOLD, font=font)


def _draw_legend(draw, rows, top, line_height, font):
    for row_index, row in enumerate(rows):
        x, y = MARGIN, top + row_index * line_height
        for fill, text, size in row:
            if fill:
                draw.rectangle([x, y + 3, x + 9, y + 12], fill=fill)
                draw.text((x + 14, y), text, fill=TEXT, font=font)
            else:
                draw.text((x, y), text, fill=MUTED, font=font)
            x += size


# The module's work ------------------------------------------------------------------------------


def chart_marks(marks, start, end, now=None):
    """``[(unix seconds, label)]`` of ``marks`` (``{at, label}`` mappings or pairs; ``at`` in any
    form ``start`` accepts) inside the window from ``start`` to ``end``; others are left out."""
    now = _time.time() if now is None else now
    resolved = []
    for index, mark in enumerate(marks or ()):
        if isinstance(mark, Mapping):
            at, text = mark.get("at"), mark.get("label")
        elif isinstance(mark, (list, tuple)) and len(mark) == 2:
            at, text = mark
        else:
            raise ChartInputError("marks[%d]: give {at, label}, not %r" % (index, mark))
        seconds = parse_time(at, now, "marks[%d].at" % index)
        if seconds is None:
            raise ChartInputError("marks[%d].at: give a time" % index)
        if start <= seconds <= end:
            resolved.append((seconds, "" if text is None else str(text)))
    return resolved


def _unit(unit):
    if unit is not None and unit not in UNITS:
        raise ChartInputError("unit: %r is not one of %s" % (unit, ", ".join(UNITS)))
    return unit


def chart_from_params(client, params, now=None):
    """Query and render what prometheus_chart's parameters ask for.

    Besides the module's options, ``name`` (the legend entry of a single series; the title or
    the query by default) is read. Returns ``(png, result, warnings)``: the PNG bytes, the
    module's return values but ``path`` and ``size_bytes``, and Prometheus' warnings as task
    warnings.
    """
    expr = params["query"]
    now = _time.time() if now is None else now
    start, end, step = chart_window(params.get("start"), params.get("end"), params.get("step"), now)
    marks = chart_marks(params.get("marks"), start, end, now)
    unit = _unit(params.get("unit"))
    answer = client.query_range(expr, start, end, step, timeout=params.get("query_timeout"))
    if answer["result_type"] != "matrix":
        raise ChartInputError(
            "query: %r returned a %s, not a range of values" % (expr, answer["result_type"])
        )
    kept, dropped = limit_series(answer["results"], params.get("max_series") or 10)
    title = expr if params.get("title") is None else params["title"]
    png = render_png(
        kept,
        start,
        end,
        title=title,
        threshold=params.get("threshold"),
        width=params.get("width") or 800,
        height=params.get("height") or 400,
        label=params.get("label"),
        dropped=dropped,
        step=step,
        marks=marks,
        unit=unit,
        name=params.get("name") or title or expr,
        include_zero=bool(params.get("include_zero")),
    )
    result = {
        "series": len(kept),
        "points": sum(len(one["values"]) for one in kept),
        "dropped_series": dropped,
        "start": start,
        "end": end,
        "step": step,
    }
    warnings = [
        "Prometheus warned about query %s: %s" % (describe(expr), text)
        for text in answer["warnings"]
    ]
    if dropped:
        warnings.append(
            "The query returned %d series; the chart shows the first %d (max_series)"
            % (len(kept) + dropped, len(kept))
        )
    return png, result, warnings


# Incidents --------------------------------------------------------------------------------------

# Without the alert's start: this much before the end.
INCIDENT_FALLBACK = 1800.0
# The narrowest incident window, so a short incident still has some context.
INCIDENT_MIN_WINDOW = 90.0


def incident_window(alert_started_at, verified_at=None, margin=None, *, now=None):
    """``(start, end)`` in unix seconds: from the alert's start minus ``margin`` to the end of
    verification (``now`` without one).

    Times are unix seconds, RFC3339 text or relative (``now-5m``). ``margin`` is seconds or a
    duration (``5m``), by default half the incident, at least a minute and at most 30 minutes;
    give at least the alert rule's ``for`` to see the metric cross its threshold. Without the
    alert's start the window is the last 30 minutes before the end; it is never narrower than
    90 seconds.
    """
    now = _time.time() if now is None else now
    end = parse_time(verified_at or None, now, "verified_at")
    end = now if end is None else end
    fired = parse_time(alert_started_at or None, now, "alert_started_at")
    if fired is None:
        return end - INCIDENT_FALLBACK, end
    fired = min(fired, end)
    if margin is None:
        margin = min(max(60.0, (end - fired) / 2.0), 1800.0)
    else:
        margin = parse_duration(margin, "margin")
    start = min(fired - margin, end - INCIDENT_MIN_WINDOW)
    return start, end


def incident_marks(report, alert_started_at=None):
    """``[(time, label)]`` for ``incident_chart``: the alert's start (``alert fired``), each
    action of ``report["actions"]`` (``(planned)`` in check mode), and each verification event of
    ``report["timeline"]`` (``alert cleared``); times as the report has them."""
    marks = []
    if alert_started_at not in (None, ""):
        marks.append((alert_started_at, "alert fired"))
    for action in report.get("actions") or []:
        if action.get("at"):
            label = str(action.get("action") or "action")
            marks.append(
                (action["at"], label + " (planned)" if action.get("check_mode") else label)
            )
    for entry in report.get("timeline") or []:
        if entry.get("phase") == "verify" and entry.get("at"):
            marks.append((entry["at"], str(entry.get("event") or "verified")))
    return marks


def incident_chart(
    series,
    *,
    start,
    end,
    marks=(),
    threshold=None,
    title="",
    name=None,
    unit=None,
    label=None,
    step=None,
    max_series=10,
    width=800,
    height=400,
    path=None,
):
    """PNG bytes of ``series`` (range query results) over an incident: ``start`` to ``end`` (see
    ``incident_window()``), each of ``marks`` (``(time, label)``, see ``incident_marks()``) a
    labelled vertical line, ``threshold`` a dashed line, the y axis from zero for values that are
    never negative and in ``unit`` (``ratio``, ``percent``, ``seconds``, ``bytes``, ``bytes/s``,
    ``cpu``; ``_report.unit_of(metric name)`` picks one). A single series is named ``name`` (or
    ``title``), several by the labels that tell them apart. Written to ``path`` (mode 0600,
    replaced atomically) when given.
    """
    start, end = parse_time(start, None, "start"), parse_time(end, None, "end")
    threshold = None if threshold in (None, "") else float(threshold)
    resolved = []
    for at, text in marks or ():
        seconds = timestamp(at)
        if seconds is not None and start <= seconds <= end:
            resolved.append((seconds, text))
    kept, dropped = limit_series(list(series), max_series)
    png = render_png(
        kept,
        start,
        end,
        title=title,
        threshold=threshold,
        width=width,
        height=height,
        label=label,
        dropped=dropped,
        step=step,
        marks=resolved,
        unit=_unit(unit),
        name=name or title or None,
        include_zero=True,
    )
    if path:
        write_file(path, png)
    return png


def write_file(path, content):
    """Replace ``path`` with ``content`` (bytes) atomically, readable by its owner only."""
    directory = os.path.dirname(path) or "."
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path))
    try:
        with os.fdopen(handle, "wb") as output:
            output.write(content)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
