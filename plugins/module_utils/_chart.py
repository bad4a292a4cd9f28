# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PNG line charts of range query results for the prometheus_chart module (private).

``render_png()`` turns normalised matrix series (as ``prometheus.parse_data()`` returns them) into
PNG bytes with Pillow; ``chart_window()`` resolves the time window and step. Both are pure, so
unit tests call them without a server. The same input always gives the same bytes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import math
import re
import time as _time
import traceback

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

_EXPONENT = re.compile(r"e([+-])0*(\d)")


class ChartInputError(ValueError):
    """An option value a chart cannot be drawn with (window, size, series)."""


# Numbers, names and windows ---------------------------------------------------------------------


def _exponent(text):
    """``2.4e+06`` as ``2.4e6`` and ``1.5e-05`` as ``1.5e-5``."""
    return _EXPONENT.sub(
        lambda match: "e" + ("-" if match.group(1) == "-" else "") + match.group(2), text
    )


def format_tick(value):
    """A number as an axis label, at most three significant digits: 0.052, 1.2k, 2.4e6."""
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e3 <= magnitude < 999.5e3:
        text = "%.3g" % (value / 1e3)
        if "e" not in text:
            return text + "k"
    return _exponent("%.3g" % value)


def sample_number(value):
    """A normalised sample value (a float, or "NaN", "+Inf", "-Inf") as a float."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def series_name(labels, label=None, hidden=()):
    """The legend entry of a series: ``label``'s value, or its labels as ``name{a=x, b=y}``.

    Labels in ``hidden`` (those every series shares) are left out when others remain.
    """
    if label and label in labels:
        return str(labels[label])
    name = str(labels.get("__name__", ""))
    others = sorted(key for key in labels if key != "__name__")
    shown = [key for key in others if key not in hidden] or ([] if name else others)
    if name and not shown:
        return name
    return "%s{%s}" % (name, ", ".join("%s=%s" % (key, labels[key]) for key in shown))


def series_names(series, label=None):
    """Legend entries of all series; labels common to every series are left out when several."""
    hidden = ()
    if len(series) > 1:
        pairs = [{(k, v) for k, v in s["labels"].items() if k != "__name__"} for s in series]
        hidden = {key for key, _value in set.intersection(*pairs)}
    return [series_name(s["labels"], label, hidden) for s in series]


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


def value_range(series, threshold=None):
    """``(low, high)`` of the y axis: every finite value and the threshold; None without data."""
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
):
    """PNG bytes of ``series`` (normalised matrix series) drawn from ``start`` to ``end``.

    Each series is a line in its own colour with a legend entry; non-finite values and missing
    steps break the line. ``threshold`` is a dashed horizontal line with its value; ``dropped``
    adds a legend note on series left out. Without any finite value the plot says "no data".
    """
    _check_input(series, start, end, threshold, (width, height))
    image = Image.new("RGB", (width, height), WHITE)
    draw = ImageDraw.Draw(image)
    title_font, font = _font(TITLE_SIZE), _font(LABEL_SIZE)
    line_height = _text_size(draw, "0:Hg", font)[1] + 4
    top = _draw_title(draw, title, title_font, width)

    entries = [(colour(index), name) for index, name in enumerate(series_names(series, label))]
    if dropped:
        entries.append((None, "+%d more series not shown" % dropped))
    rows = _legend_rows(draw, entries, font, width - 2 * MARGIN)
    legend_top = height - MARGIN - len(rows) * line_height

    y_range = value_range(series, threshold)
    y_labels = [format_tick(value) for value in y_range] if y_range else []
    label_width = max([int(draw.textlength(text, font=font)) for text in y_labels] or [0])
    # Left, top (with room for the top tick label), right, bottom of the plot area.
    box = (
        MARGIN + label_width + 6,
        top + line_height // 2,
        width - MARGIN - 1,
        legend_top - line_height - 6,
    )
    if box[3] - box[1] < 40:
        raise ChartInputError(
            "height: %d pixels leave no room for the plot; raise height or lower max_series"
            % height
        )
    _draw_frame(draw, box, (start, end), font)
    inner = (
        box[0] + PLOT_PADDING,
        box[1] + PLOT_PADDING,
        box[2] - PLOT_PADDING,
        box[3] - PLOT_PADDING,
    )
    if y_range is None:
        _draw_centred(draw, box, "no data", title_font)
    else:
        _plot(draw, series, (start, end), y_range, inner, threshold=threshold, step=step)
        for text, y in ((y_labels[1], inner[1]), (y_labels[0], inner[3])):
            text_width, text_height = _text_size(draw, text, font)
            position = (box[0] - 4 - text_width, y - text_height // 2 - 2)
            draw.text(position, text, fill=TEXT, font=font)
        if threshold is not None:
            _threshold_label(draw, threshold, y_range, inner, font)

    _draw_legend(draw, rows, legend_top, line_height, font)
    output = io.BytesIO()
    image.save(output, format="PNG", optimize=False)
    return output.getvalue()


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


def _draw_frame(draw, box, window, font):
    """The plot's frame, its axes, and the start and end times below it."""
    left, top, right, bottom = box
    draw.rectangle([left, top, right, bottom], outline=GRID)
    draw.line([(left, top), (left, bottom), (right, bottom)], fill=AXIS, width=1)
    draw.text((left, bottom + 4), utc_clock(window[0]), fill=TEXT, font=font)
    end_label = utc_clock(window[1]) + " UTC"
    end_width = int(draw.textlength(end_label, font=font))
    draw.text((right - end_width, bottom + 4), end_label, fill=TEXT, font=font)


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
        for run in _runs(one["values"], step):
            pixels = [point(timestamp, value) for timestamp, value in run]
            if len(pixels) == 1:
                x, y = pixels[0]
                draw.ellipse([x - 2, y - 2, x + 2, y + 2], fill=fill)
            else:
                draw.line(pixels, fill=fill, width=LINE_WIDTH, joint="curve")
    if threshold is not None and y_range[0] <= threshold <= y_range[1]:
        _dashed_hline(draw, inner[0], inner[2], point(window[0], threshold)[1], THRESHOLD)


def _threshold_label(draw, threshold, y_range, inner, font):
    y = _scale((0, 1), y_range, inner)(0, threshold)[1]
    text = "threshold %s" % format_tick(threshold)
    text_width, text_height = _text_size(draw, text, font)
    # Above the line, or below it when the line is at the top of the plot.
    text_y = y - text_height - 6 if y - text_height - 6 >= inner[1] else y + 4
    draw.text((inner[2] - text_width - 2, text_y), text, fill=THRESHOLD, font=font)


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


def chart_from_params(client, params, now=None):
    """Query and render what prometheus_chart's parameters ask for.

    Returns ``(png, result, warnings)``: the PNG bytes, the module's return values but ``path``
    and ``size_bytes``, and Prometheus' warnings as task warnings.
    """
    expr = params["query"]
    start, end, step = chart_window(params.get("start"), params.get("end"), params.get("step"), now)
    answer = client.query_range(expr, start, end, step, timeout=params.get("query_timeout"))
    if answer["result_type"] != "matrix":
        raise ChartInputError(
            "query: %r returned a %s, not a range of values" % (expr, answer["result_type"])
        )
    kept, dropped = limit_series(answer["results"], params.get("max_series") or 10)
    png = render_png(
        kept,
        start,
        end,
        title=expr if params.get("title") is None else params["title"],
        threshold=params.get("threshold"),
        width=params.get("width") or 800,
        height=params.get("height") or 400,
        label=params.get("label"),
        dropped=dropped,
        step=step,
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
