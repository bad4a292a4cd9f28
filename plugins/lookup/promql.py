# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: promql
short_description: Evaluate PromQL instant queries from a template
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Evaluates each term as a PromQL instant query against the Prometheus HTTP API, on the
    controller, and returns one value per term.
  - A scalar, or a vector with exactly one series, gives its value as a float; a vector with no
    series gives an empty list; a vector with several series gives a list of C({labels, value})
    dictionaries; a string result gives the string; a range vector selector such as C(up[5m])
    gives a list of C({labels, values}) dictionaries.
  - Values are floats when finite and the strings V(NaN), V(+Inf) and V(-Inf) otherwise, exactly as
    the M(sre.runbooks.prometheus_query) module returns them; the C(float) filter reads all three.
  - With one term, the C(lookup) function returns that term's value itself, so a single value
    compares in a C(when) condition after the C(float) filter (see the examples). With several
    terms, or to always get a list, use the C(query) function, which returns one element per term;
    C(lookup) joins several string values with commas.
  - Errors fail the task with the same message as the module, which names the query, the URL, the
    HTTP status and Prometheus' own explanation, for example a PromQL parse error.
options:
  _terms:
    description: PromQL expressions, each evaluated as an instant query.
    type: list
    elements: str
    required: true
  time:
    description:
      - Evaluation time of every term.
      - Unix seconds, RFC3339 with a time zone (V(2024-05-01T12:00:00Z)), V(now), or V(now) minus or
        plus a Prometheus duration (V(now-5m), or just V(-5m)).
      - Relative times are resolved once, with the controller's clock, so every term sees the same
        instant.
      - If not set, Prometheus evaluates at its own current time.
    type: raw
  query_timeout:
    description:
      - Prometheus' own evaluation timeout for each term (its C(timeout) parameter), as seconds or a
        duration such as V(30s). Distinct from O(timeout), which bounds each HTTP request.
    type: raw
extends_documentation_fragment:
  - sre.runbooks.prometheus.PLUGINS
  - sre.runbooks.transport
notes:
  - Runs on the controller, in the templating process; the connection options come from the
    lookup's keyword arguments, then from the environment variables listed for each option.
  - Terms are evaluated one after another; use M(sre.runbooks.prometheus_query) with its
    C(queries) option to run many queries concurrently.
seealso:
  - module: sre.runbooks.prometheus_query
"""

EXAMPLES = r"""
- name: Scale out only while the queue is long
  ansible.builtin.debug:
    msg: The queue is long
  when: >-
    lookup('sre.runbooks.promql', 'sum(queue_depth{queue="jobs"})', url=prometheus_url)
    | float > 100

- name: One value per term, always as a list
  ansible.builtin.set_fact:
    api_state: >-
      {{ query('sre.runbooks.promql', 'sum(up{job="api"})',
               'count(kube_pod_info{namespace="api"})', url=prometheus_url) }}

- name: The series of a multi-series vector, with their labels
  ansible.builtin.debug:
    msg: "{{ item.labels.instance }} is down"
  loop: "{{ lookup('sre.runbooks.promql', 'up{job=\"api\"} == 0', url=prometheus_url) }}"

- name: The value five minutes ago, with PROMETHEUS_URL and PROMETHEUS_TOKEN from the environment
  ansible.builtin.debug:
    msg: "{{ lookup('sre.runbooks.promql', 'sum(rate(http_requests_total[5m]))', time='now-5m') }}"
"""

RETURN = r"""
_raw:
  description:
    - One element per term. A float, or the string V(NaN), V(+Inf) or V(-Inf), for a scalar or a
      single-series vector; an empty list for an empty vector; a list of dictionaries with C(labels)
      and C(value) for several series (C(labels) and C(values) for a range vector); the string of a
      string result.
  type: list
  elements: raw
"""

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display
from ansible_collections.sre.runbooks.plugins.module_utils._http import (
    CONNECTION_OPTIONS,
    APIError,
)
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusClient,
    PrometheusInputError,
    describe,
    lookup_value,
    parse_time,
)

display = Display()


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        options = {name: self.get_option(name) for name in CONNECTION_OPTIONS}
        values = []
        try:
            client = PrometheusClient.from_options(options)
            when = parse_time(self.get_option("time"))
            for term in terms:
                answer = client.query(term, time=when, timeout=self.get_option("query_timeout"))
                for warning in answer["warnings"]:
                    display.warning(
                        "Prometheus warned about query %s: %s" % (describe(term), warning)
                    )
                values.append(lookup_value(answer))
        except (APIError, PrometheusInputError) as error:
            raise AnsibleLookupError(to_text(error)) from None
        return values
