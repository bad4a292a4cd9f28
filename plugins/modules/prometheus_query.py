#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: prometheus_query
short_description: Evaluate PromQL instant or range queries and compare them with a threshold
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Runs one PromQL query (O(query)) or several named queries concurrently (O(queries)) against
    the Prometheus HTTP API, as instant queries at O(time) or as range queries from O(start) to
    O(end) every O(step), and returns normalised results.
  - With O(threshold), compares every series with O(op) and reports RV(breached), so a runbook can
    assess a situation and verify a mitigation in one task.
  - This module exists because no maintained collection queries Prometheus; C(prometheus.prometheus)
    only installs and configures Prometheus servers and exporters.
  - Only reads; never reports a change, and runs unchanged in check mode.
  - Queries are sent as form-encoded POST requests to C(/api/v1/query) and C(/api/v1/query_range),
    and are retried like every read (see O(retries)).
options:
  query:
    description:
      - One PromQL expression, for example V(up{job="api"} == 0).
      - Exactly one of O(query) and O(queries) is required.
    type: str
  queries:
    description:
      - Several PromQL expressions by name, evaluated concurrently at the same O(time) or over the
        same range; relative times are resolved once for all of them.
      - Results come back under the same names in RV(results) and RV(query_values).
      - If any query fails, the module fails with the name and expression of the first failed query.
    type: dict
  time:
    description:
      - Evaluation time of an instant query.
      - Unix seconds (V(1714564800) or V(1714564800.5)), RFC3339 with a time zone
        (V(2024-05-01T12:00:00Z), V(2024-05-01T14:00:00+02:00)), V(now), or V(now) minus or plus
        a Prometheus duration (V(now-5m), or just V(-5m); V(-300) would be unix seconds, so write
        V(-300s)).
      - Relative times are resolved with the clock of the host running the module.
      - If not set, Prometheus evaluates at its own current time.
      - Mutually exclusive with O(start), O(end) and O(step).
    type: raw
  start:
    description:
      - Start of a range query, in any form O(time) accepts.
      - O(start), O(end) and O(step) are required together; they make the query a range query.
    type: raw
  end:
    description:
      - End of a range query, in any form O(time) accepts, for example V(now).
    type: raw
  step:
    description:
      - Resolution of a range query, as seconds (V(30), V(0.5)) or a Prometheus duration
        (V(30s), V(1m), V(1h30m)).
    type: raw
  query_timeout:
    description:
      - Prometheus' own evaluation timeout for each query (its C(timeout) parameter), as seconds or
        a duration such as V(30s); Prometheus answers HTTP 503 when it is exceeded.
      - Distinct from O(timeout), which bounds each HTTP request; keep O(timeout) above it.
      - If not set, the server's C(--query.timeout) applies (2 minutes by default).
    type: raw
  threshold:
    description:
      - Compare every series with this number using O(op) and set RV(breached).
      - A series' value is its sample (instant query) or its last sample (range query).
      - V(NaN) never breaches, whatever O(op), not even with V(!=).
      - Not allowed for queries whose result is a string.
    type: float
  op:
    description:
      - Comparison of a value with O(threshold); a series breaches when C(value op threshold) holds.
      - Only used with O(threshold).
    type: str
    choices: ['>', '>=', '<', '<=', '==', '!=']
    default: '>'
extends_documentation_fragment:
  - sre.runbooks.prometheus
  - sre.runbooks.transport
  - sre.runbooks.attributes.INFO_MODULE
  - sre.runbooks.attributes.PROMETHEUS_GROUP
notes:
  - Sample values are floats when finite. JSON has no literal for NaN and infinities, so they are
    returned as the strings V(NaN), V(+Inf) and V(-Inf), as Prometheus spells them; the
    C(float) filter turns them back into numbers.
  - An empty vector is an empty list in RV(results) and V(null) in RV(value).
seealso:
  - plugin: sre.runbooks.promql
    plugin_type: lookup
    description: The same instant queries from a template, evaluated on the controller.
  - name: Prometheus HTTP API
    description: Expression queries, their parameters and result formats.
    link: https://prometheus.io/docs/prometheus/latest/querying/api/#expression-queries
"""

EXAMPLES = r"""
- name: Error ratio of the API over the last five minutes
  sre.runbooks.prometheus_query:
    url: http://prometheus.monitoring:9090
    query: >-
      sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))
      / sum(rate(http_requests_total{job="api"}[5m]))
    threshold: 0.05
  register: error_ratio

- name: Restart only when the error ratio is above 5 %
  ansible.builtin.debug:
    msg: "Error ratio {{ error_ratio.value }} breaches the 5 % objective"
  when: error_ratio.breached

- name: Several signals at once, with one connection block for every Prometheus task
  module_defaults:
    group/sre.runbooks.prometheus:
      url: "{{ prometheus_url }}"
      token: "{{ prometheus_token }}"
  block:
    - name: Assess the service
      sre.runbooks.prometheus_query:
        queries:
          errors: sum(rate(http_requests_total{job="api",code=~"5.."}[5m]))
          latency_p99: >-
            histogram_quantile(0.99,
            sum by (le) (rate(http_request_duration_seconds_bucket{job="api"}[5m])))
          ready_pods: sum(kube_deployment_status_replicas_ready{deployment="api"})
        time: now
      register: assess

    - name: Show the values
      ansible.builtin.debug:
        msg: >-
          p99 {{ assess.query_values.latency_p99 }} s
          with {{ assess.query_values.ready_pods }} ready pods

- name: Memory of every pod over the last hour, one point a minute
  sre.runbooks.prometheus_query:
    url: http://prometheus.monitoring:9090
    query: sum by (pod) (container_memory_working_set_bytes{namespace="api"})
    start: now-1h
    end: now
    step: 1m
    query_timeout: 30s
  register: memory

- name: Pods whose last memory sample is under 512 MiB
  sre.runbooks.prometheus_query:
    url: http://prometheus.monitoring:9090
    query: sum by (pod) (container_memory_working_set_bytes{namespace="api"})
    threshold: 536870912
    op: '<'
  register: small_pods

- name: Names of those pods
  ansible.builtin.debug:
    msg: "{{ small_pods.results | selectattr('breached') | map(attribute='labels.pod') | list }}"
"""

RETURN = r"""
results:
  description:
    - For O(query), the list of series; for O(queries), a dictionary of such lists by query name.
    - Each series has C(labels) (empty for scalar and string results) and either C(value) (instant
      query, scalar, string) or C(values), a list of C([timestamp, value]) pairs (range query, or
      a range vector selector such as C(up[5m])).
    - Values are floats when finite and the strings V(NaN), V(+Inf), V(-Inf) otherwise; the value of
      a string result is the string.
    - With O(threshold), every series also has C(breached), computed from its value or, for a
      range, its last value.
    - An empty vector is an empty list.
  returned: always
  type: raw
  sample:
    - labels: {instance: "10.0.0.7:8080", job: api}
      value: 0.25
      breached: true
    - labels: {instance: "10.0.0.8:8080", job: api}
      value: NaN
      breached: false
result_type:
  description: What Prometheus returned for O(query), V(vector), V(matrix), V(scalar) or V(string).
  returned: when O(query) is given
  type: str
  sample: vector
value:
  description:
    - The value when O(query) returned exactly one series, a scalar or a string; the last value
      when that series is a range. A float, one of the strings V(NaN), V(+Inf), V(-Inf), or the
      string result.
    - V(null) when the query returned no series or several.
  returned: when O(query) is given
  type: raw
  sample: 0.25
query_values:
  description:
    - For O(queries), each query's value by name, as RV(value) is for O(query); V(null) for a query
      that returned no series or several.
  returned: when O(queries) is given
  type: dict
  sample: {errors: 0.5, latency_p99: 0.231, ready_pods: 3.0}
breached:
  description:
    - Whether any series (of any query for O(queries)) breached O(threshold). V(NaN) never does.
  returned: when O(threshold) is given
  type: bool
  sample: true
"""

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusInputError,
    PrometheusModule,
    query_module_result,
)

ARGUMENT_SPEC = dict(
    query=dict(type="str"),
    queries=dict(type="dict"),
    time=dict(type="raw"),
    start=dict(type="raw"),
    end=dict(type="raw"),
    step=dict(type="raw"),
    query_timeout=dict(type="raw"),
    threshold=dict(type="float"),
    op=dict(type="str", default=">", choices=[">", ">=", "<", "<=", "==", "!="]),
)


def main():
    module = PrometheusModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        mutually_exclusive=[
            ("query", "queries"),
            ("time", "start"),
            ("time", "end"),
            ("time", "step"),
        ],
        required_one_of=[("query", "queries")],
        required_together=[("start", "end", "step")],
    )
    try:
        result, warnings = query_module_result(module.client(), module.params)
    except (APIError, PrometheusInputError) as error:
        module.fail_from_exception(error)
    for warning in warnings:
        module.warn(warning)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
