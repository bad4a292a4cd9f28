#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prometheus_chart
short_description: Draw a PromQL range query as a PNG line chart
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Runs one PromQL range query (O(query)) from O(start) to O(end) every O(step) against the
    Prometheus HTTP API and writes a PNG line chart of the result to O(path), for example the
    alert's metric over an incident window, to attach to an incident report or a ticket.
  - The chart has a title, the time window in UTC on the x axis with round times between, the
    lowest, middle and highest value on the y axis (in O(unit)), one line per series in its own
    colour with a legend, O(threshold) as a dashed line and each of O(marks) as a labelled
    vertical line. NaN and infinite values, and steps where a series has no sample, break its
    line. When the query returns no finite value, the chart says C(no data).
  - This module exists because no module of ansible-core or of the community collections renders
    a Prometheus query as an image; C(prometheus.prometheus) only installs and configures
    Prometheus servers and exporters.
  - Reports a change when the file at O(path) did not exist or had other content. The same query
    over the same absolute window gives the same bytes, so reruns report no change.
  - The query is sent as a form-encoded POST request to C(/api/v1/query_range) and retried like
    every read (see O(retries)).
options:
  query:
    description:
      - The PromQL expression to draw, for example V(sum by (pod\) (up{job="api"}\)).
    type: str
    required: true
  start:
    description:
      - Start of the window.
      - Unix seconds (V(1714564800)), RFC3339 with a time zone (V(2024-05-01T12:00:00Z)), V(now),
        or V(now) minus or plus a Prometheus duration (V(now-1h), or just V(-30m); V(-300) would be
        unix seconds, so write V(-300s)), as M(sre.runbooks.prometheus_query) accepts.
      - Relative times of O(start) and O(end) are resolved once, with the clock of the host running
        the module.
    type: raw
    default: -30m
  end:
    description:
      - End of the window, in any form O(start) accepts; must be after O(start).
    type: raw
    default: now
  step:
    description:
      - Resolution of the query, as seconds (V(30), V(0.5)) or a Prometheus duration
        (V(30s), V(1m)).
      - If not set, whole seconds chosen for about 200 points over the window (at least one second).
    type: raw
  query_timeout:
    description:
      - Prometheus' own evaluation timeout for the query (its C(timeout) parameter), as seconds or
        a duration such as V(30s).
      - Distinct from O(timeout), which bounds each HTTP request; keep O(timeout) above it.
    type: raw
  path:
    description:
      - Where to write the PNG. Its directory must exist.
      - The file is replaced atomically, only when its content changes.
    type: path
    required: true
  title:
    description:
      - Title at the top of the chart. If not set, the query. An empty string draws no title.
      - Shortened with C(...) when wider than the chart.
    type: str
  threshold:
    description:
      - Draw this value as a dashed horizontal line with its value; the y axis includes it.
    type: float
  width:
    description:
      - Width of the image in pixels, from 200 to 8000.
    type: int
    default: 800
  height:
    description:
      - Height of the image in pixels, from 150 to 8000. The legend takes room from the plot.
    type: int
    default: 400
  label:
    description:
      - Name of the label whose value names each series in the legend, for example V(pod).
      - If not set, or for a series without that label, the legend shows only the labels that
        differ between the series, as C(a=x, b=y) (with the metric name in front, C(name{a=x}),
        when it differs too); a single series is named by O(title), or by the query when
        O(title) is empty.
    type: str
  marks:
    description:
      - Moments to mark, for example the mitigations of an incident; each is a dashed vertical
        line with its label above the plot.
      - Marks outside the window are left out.
    type: list
    elements: dict
    suboptions:
      at:
        description:
          - When, in any form O(start) accepts.
        type: raw
        required: true
      label:
        description:
          - What happened, for example V(rollback).
        type: str
        required: true
  unit:
    description:
      - Unit of the values, for the y axis and the threshold's label.
      - V(ratio) writes V(0.5) as V(50%); V(percent) writes V(85) as V(85%); V(seconds) writes
        V(0.243) as V(243 ms); V(bytes) writes binary units (V(922 MiB)), V(bytes/s) the same per
        second; V(cpu) writes cores as millicores (V(250m)).
      - If not set, values have three significant digits (V(0.052), V(1.2k)).
    type: str
    choices: [ratio, percent, seconds, bytes, bytes/s, cpu]
  include_zero:
    description:
      - Start the y axis at zero when no value is negative, so that a rise reads at its true size.
    type: bool
    default: false
  max_series:
    description:
      - Draw at most this many series, the first ones Prometheus returns; the legend and
        RV(dropped_series) say how many were left out, and a warning too.
    type: int
    default: 10
extends_documentation_fragment:
  - sre.runbooks.prometheus
  - sre.runbooks.transport
  - sre.runbooks.attributes.PROMETHEUS_GROUP
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Runs the query and renders the chart, then reports what it would write without writing.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode),
        when in diff mode.
    support: none
    details: A PNG has no readable diff; C(changed) says whether the file's bytes change.
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: partial
    details: Only with an absolute window (O(start) and O(end) as times, not relative to V(now)).
requirements:
  - pillow (Python library, on the host running the module)
notes:
  - Times on the x axis are in UTC. Each series is drawn as Prometheus returns it; the y axis
    spans its finite values and O(threshold).
  - Text uses Pillow's built-in default font, so no font files are needed.
seealso:
  - module: sre.runbooks.prometheus_query
    description: The same range queries as data, with thresholds.
  - name: Prometheus HTTP API
    description: Range queries, their parameters and result format.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#range-queries
"""

EXAMPLES = r"""
- name: Error ratio of the API over the last hour, with the objective as a line
  sre.runbooks.prometheus_chart:
    url: http://prometheus.monitoring:9090
    query: >-
      sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))
      / sum(rate(http_requests_total{job="api"}[5m]))
    start: now-1h
    title: API error ratio
    threshold: 0.05
    path: /var/tmp/incident/error-ratio.png
  register: error_chart

- name: Memory of every pod over the incident window, named by pod
  sre.runbooks.prometheus_chart:
    url: http://prometheus.monitoring:9090
    query: sum by (pod) (container_memory_working_set_bytes{namespace="api"})
    start: "2024-05-01T11:30:00Z"
    end: "2024-05-01T12:30:00Z"
    step: 30s
    label: pod
    max_series: 5
    width: 1200
    height: 500
    path: "{{ report_dir }}/memory.png"

- name: Error ratio over an incident, in percent, with the rollback marked
  sre.runbooks.prometheus_chart:
    url: http://prometheus.monitoring:9090
    query: >-
      sum(rate(http_requests_total{job="api",code=~"5.."}[1m]))
      / sum(rate(http_requests_total{job="api"}[1m]))
    start: "2024-05-01T11:55:00Z"
    end: "2024-05-01T12:10:00Z"
    title: API error ratio
    threshold: 0.05
    unit: ratio
    include_zero: true
    marks:
      - at: "2024-05-01T12:00:00Z"
        label: alert fired
      - at: "2024-05-01T12:03:30Z"
        label: rollback
    path: /var/tmp/incident/error-ratio.png

- name: Say what the chart shows
  ansible.builtin.debug:
    msg: >-
      {{ error_chart.series }} series, {{ error_chart.points }} points
      from {{ error_chart.start | int }} to {{ error_chart.end | int }} in {{ error_chart.path }}
"""

RETURN = r"""
path:
  description: The PNG file written (or that would be written in check mode).
  returned: always
  type: str
  sample: /var/tmp/incident/error-ratio.png
series:
  description:
    - Number of series drawn; V(0) when the query returned none (the chart says C(no data)).
  returned: always
  type: int
  sample: 3
points:
  description: Number of samples of the drawn series, including NaN and infinite ones.
  returned: always
  type: int
  sample: 361
dropped_series:
  description: Number of series left out because of O(max_series).
  returned: always
  type: int
  sample: 0
start:
  description: Start of the window in unix seconds, with relative times resolved.
  returned: always
  type: float
  sample: 1714563000.0
end:
  description: End of the window in unix seconds; with RV(start), repeats the same chart later.
  returned: always
  type: float
  sample: 1714566600.0
step:
  description: Seconds between points of the query.
  returned: always
  type: float
  sample: 18.0
size_bytes:
  description: Size of the PNG in bytes.
  returned: always
  type: int
  sample: 14382
"""

import os
import tempfile

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_bytes, to_native
from ansible_collections.sre.runbooks.plugins.module_utils._chart import (
    HAS_PIL,
    PIL_IMPORT_ERROR,
    ChartInputError,
    chart_from_params,
)
from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusInputError,
    PrometheusModule,
)

ARGUMENT_SPEC = dict(
    query=dict(type="str", required=True),
    start=dict(type="raw", default="-30m"),
    end=dict(type="raw", default="now"),
    step=dict(type="raw"),
    query_timeout=dict(type="raw"),
    path=dict(type="path", required=True),
    title=dict(type="str"),
    threshold=dict(type="float"),
    width=dict(type="int", default=800),
    height=dict(type="int", default=400),
    label=dict(type="str"),
    max_series=dict(type="int", default=10),
    marks=dict(
        type="list",
        elements="dict",
        options=dict(at=dict(type="raw", required=True), label=dict(type="str", required=True)),
    ),
    unit=dict(type="str", choices=["ratio", "percent", "seconds", "bytes", "bytes/s", "cpu"]),
    include_zero=dict(type="bool", default=False),
)


def current_bytes(module, path):
    """The content of ``path``, or None when there is no file yet."""
    if os.path.isdir(path):
        module.fail_json(msg="path: %s is a directory; give a file name" % path)
    if not os.path.exists(path):
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            module.fail_json(msg="path: the directory %s does not exist" % directory)
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as error:
        module.fail_json(msg="Failed to read %s: %s" % (path, to_native(error)))


def write_atomically(module, path, content):
    directory = os.path.dirname(path) or "."
    try:
        handle, temporary = tempfile.mkstemp(
            dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp"
        )
        module.add_cleanup_file(temporary)
        with os.fdopen(handle, "wb") as output:
            output.write(content)
    except (IOError, OSError) as error:
        module.fail_json(msg="Failed to write %s: %s" % (path, to_native(error)))
    module.atomic_move(temporary, to_bytes(path, errors="surrogate_or_strict"))


def main():
    module = PrometheusModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_PIL:
        module.fail_json(msg=missing_required_lib("pillow"), exception=PIL_IMPORT_ERROR)
    path = module.params["path"]
    before = current_bytes(module, path)
    try:
        png, result, warnings = chart_from_params(module.client(), module.params)
    except APIError as error:
        module.fail_from_exception(error)
    except (ChartInputError, PrometheusInputError) as error:
        module.fail_json(msg=to_native(error))
    for warning in warnings:
        module.warn(warning)
    changed = png != before
    if changed and not module.check_mode:
        write_atomically(module, path, png)
    module.exit_json(changed=changed, path=path, size_bytes=len(png), **result)


if __name__ == "__main__":
    main()
