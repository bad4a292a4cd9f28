#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alertmanager_alert_info
short_description: List the alerts Alertmanager holds, with filters
version_added: 0.1.0
description:
  - Lists the alerts of an Alertmanager through its API v2 (C(GET /api/v2/alerts)), filtered
    by alert name, label matchers, state and receiver, with their silences and inhibitions.
  - Only reads; never reports a change.
author:
  - sre.runbooks maintainers (!UNKNOWN)
options:
  alertname:
    description:
      - Only alerts with this C(alertname) label; the same as the matcher
        C(alertname="NAME").
    type: str
  matchers:
    description:
      - >-
        Label matchers every returned alert satisfies, in the forms of
        O(sre.runbooks.alertmanager_silence#module:matchers): strings C(name="value"),
        C(name!="value"), C(name=~"regex"), C(name!~"regex"), or dicts with C(name), C(value),
        C(is_regex) and C(is_equal).
    type: list
    elements: raw
  active:
    description:
      - Include alerts that are neither silenced nor inhibited. Alertmanager's default.
    type: bool
    default: true
  silenced:
    description:
      - Include silenced alerts. Alertmanager's default.
    type: bool
    default: true
  inhibited:
    description:
      - Include inhibited alerts. Alertmanager's default.
    type: bool
    default: true
  unprocessed:
    description:
      - Include alerts Alertmanager has received but not yet processed. Alertmanager's default.
    type: bool
    default: true
  receiver:
    description:
      - Only alerts routed to a receiver whose name matches this regular expression (anchored).
    type: str
extends_documentation_fragment:
  - sre.runbooks.alertmanager
  - sre.runbooks.transport
  - sre.runbooks.attributes.INFO_MODULE
  - sre.runbooks.attributes.ALERTMANAGER_GROUP
seealso:
  - module: sre.runbooks.alertmanager_silence
"""

EXAMPLES = r"""
- name: Which disk alerts are firing and not silenced?
  sre.runbooks.alertmanager_alert_info:
    url: http://alertmanager.monitoring:9093
    matchers:
      - alertname=~"Disk.*"
      - severity="critical"
    silenced: false
    inhibited: false
  register: disk_alerts

- name: Stop when one is firing
  ansible.builtin.assert:
    that: disk_alerts.alerts | length == 0
    fail_msg: "{{ disk_alerts.alerts | map(attribute='labels.instance') | join(', ') }}"

- name: Every alert of one name routed to the on-call receiver
  sre.runbooks.alertmanager_alert_info:
    alertname: CheckoutLatencyHigh
    receiver: oncall-.*
  module_defaults:
    group/sre.runbooks.alertmanager:
      url: "{{ alertmanager_url }}"
"""

RETURN = r"""
alerts:
  description: The matching alerts, in Alertmanager's order.
  returned: always
  type: list
  elements: dict
  contains:
    labels:
      description: The labels of the alert.
      type: dict
    annotations:
      description: The annotations of the alert.
      type: dict
    starts_at:
      description: When the alert started firing, RFC 3339.
      type: str
    ends_at:
      description: When Alertmanager will consider the alert resolved, RFC 3339.
      type: str
    updated_at:
      description: When Alertmanager last received the alert, RFC 3339.
      type: str
    fingerprint:
      description: Alertmanager's hash of the labels, identifying the alert.
      type: str
    status:
      description: The alert's state and what suppresses it.
      type: dict
      contains:
        state:
          description: V(active), V(suppressed) (silenced or inhibited) or V(unprocessed).
          type: str
        silenced_by:
          description: IDs of the silences that silence the alert.
          type: list
          elements: str
        inhibited_by:
          description: Fingerprints of the alerts that inhibit it.
          type: list
          elements: str
    generator_url:
      description: Link to the source of the alert, such as the Prometheus expression.
      type: str
    receivers:
      description: Names of the receivers the alert is routed to.
      type: list
      elements: str
  sample:
    - labels: {alertname: DiskFull, instance: "db-1:9100", severity: critical}
      annotations: {summary: Disk almost full}
      starts_at: "2030-01-31T22:00:00.000Z"
      ends_at: "2030-01-31T22:05:00.000Z"
      updated_at: "2030-01-31T22:01:00.000Z"
      fingerprint: 7f852445bf49c8ac
      status:
        state: suppressed
        silenced_by: [9a2a4b3b-0d7e-4a4c-8a48-8fd1c56a5f0e]
        inhibited_by: []
      generator_url: http://prometheus:9090/graph?g0.expr=disk_free_ratio+%3C+0.05
      receivers: [default]
"""

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.alertmanager import (
    AlertmanagerModule,
    InputError,
    alert_info,
)


def main():
    module = AlertmanagerModule(
        argument_spec=dict(
            alertname=dict(type="str"),
            matchers=dict(type="list", elements="raw"),
            active=dict(type="bool", default=True),
            silenced=dict(type="bool", default=True),
            inhibited=dict(type="bool", default=True),
            unprocessed=dict(type="bool", default=True),
            receiver=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    try:
        result = alert_info(module.client(), module.params)
    except InputError as error:
        module.fail_json(msg=str(error))
    except APIError as error:
        module.fail_from_exception(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
