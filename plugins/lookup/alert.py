# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: alert
short_description: Resolve an alert name and its labels to the collection's alert catalog entry
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Resolves each term, an alert name or one of its aliases, with the alert's labels, to one entry
    of the collection's alert catalog, exactly as the C(runbook) launcher does (both run the same
    resolver).
  - The entry merges the alerting rule's identity (C(prometheus/rules/*.yml) in the collection,
    its C(severity), C(system) and C(runbook) labels and its C(runbook_url) annotation) with the
    catalog's data (C(playbooks/vars/alert_catalog.yml) in the collection, the aliases, the
    C(match) selectors, the target, the seed's severity and the escalation).
  - Resolution, in order. An alias names its alert (exact, case-sensitive). Among the entries of
    the name, the one with a C(match) selector equal to the labels on every key of the selector.
    Else the name's catch-all entry, unless the C(namespace) label is one of its excluded
    namespaces. Else the name's only entry when the labels hold none of the keys its selectors
    use. A C(system) label must equal the entry's system.
  - An unknown alert fails with the closest names and every known name; labels that select no
    entry, or several, fail saying which labels to pass.
options:
  _terms:
    description: Alert names or aliases, e.g. V(HighErrorRate) or the seed's V(CacheHitRatelow).
    type: list
    elements: str
    required: true
  labels:
    description:
      - The alert's labels, as Alertmanager sends them (C(system), C(namespace), C(service),
        C(pod), ...). They pick the entry among the systems that share an alert name.
      - Labels that no selector uses are ignored.
    type: dict
    default: {}
  fail_on_error:
    description:
      - When V(false), a term that does not resolve (unknown alert, labels that select no entry or
        several) gives a dictionary with one key, C(error), the message, instead of failing, so that
        a playbook can fail with exactly that message, for example in an M(ansible.builtin.assert).
      - An invalid catalog or rule file always fails.
    type: bool
    default: true
notes:
  - Runs on the controller; reads the rule files and the catalog of the collection this plugin
    belongs to, once per change of those files.
  - docs/catalog.md in the collection describes every field of an entry and how to add an alert.
"""

EXAMPLES = r"""
- name: The entry of an alert from its labels
  ansible.builtin.set_fact:
    alert_entry: >-
      {{ lookup('sre.runbooks.alert', 'HighErrorRate',
                labels={'system': 'nimify', 'namespace': 'nimify-system'}) }}

- name: Run the role that remediates it
  ansible.builtin.include_role:
    name: "sre.runbooks.{{ alert_entry.role }}"

- name: Fail with the resolver's own message (closest names, labels to pass)
  ansible.builtin.set_fact:
    alert_entry: >-
      {{ lookup('sre.runbooks.alert', alert, labels=alert_labels, fail_on_error=false) }}
- name: Check the alert
  ansible.builtin.assert:
    that: alert_entry.error is not defined
    fail_msg: "{{ alert_entry.error | default('') }}"

- name: Escalation steps of an alias, as a list of {after, to}
  ansible.builtin.debug:
    msg: "{{ lookup('sre.runbooks.alert', 'CacheHitRatelow').escalation }}"
"""

RETURN = r"""
_raw:
  description:
    - One catalog entry per term, a dictionary; with O(fail_on_error=false), C({error}) for a term
      that does not resolve.
  type: list
  elements: dict
  contains:
    alert:
      description: The alert name (an alias resolves to it).
      type: str
      sample: HighErrorRate
    system:
      description: The rule's C(system) label.
      type: str
      sample: nimify
    role:
      description: The role that remediates the alert, the rule's C(runbook) label.
      type: str
      sample: high_error_rate
    severity:
      description:
        - The rule's C(severity) label; the highest when the alert has one rule per severity.
      type: str
      sample: critical
    severities:
      description: Every severity of the alert's rules, highest first.
      type: list
      elements: str
    seed_severity:
      description: The severity on the runbook's own scale (V(SEV-1), V(P0), ...).
      type: str
      sample: SEV-1
    runbook_url:
      description: The rule's C(runbook_url) annotation.
      type: str
      sample: docs/alerts.md#higherrorrate
    escalation:
      description:
        - Whom to escalate to, and after how long, as C({after, to}) with an optional C(contact).
      type: list
      elements: dict
    target:
      description:
        - The default workload, C({namespace, kind, name}); C(from_labels) maps C(namespace) and or
          C(name) to the alert label that gives it.
      type: dict
    aliases:
      description: Other spellings of the alert name.
      type: list
      elements: str
    match:
      description: The label selectors that choose this entry among the systems sharing the name.
      type: list
      elements: dict
    catch_all:
      description: Whether this is the name's catch-all (generic service template) entry.
      type: bool
    excluded_namespaces:
      description: The namespaces a catch-all entry does not cover.
      type: list
      elements: str
    description:
      description: One line on what is wrong.
      type: str
    condition:
      description: One line on the threshold and duration.
      type: str
    notes:
      description: Where the data is not the runbook's own, what was chosen and why; may be empty.
      type: str
    error:
      description: Only with O(fail_on_error=false), for a term that does not resolve; the message.
      type: str
"""

import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.sre.runbooks.plugins.plugin_utils.alert_catalog import (
    CatalogFileError,
    ResolveError,
    load,
)

# plugins/lookup/alert.py -> the collection's directory
COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        labels = {str(k): str(v) for k, v in (self.get_option("labels") or {}).items()}
        try:
            catalog = load(COLLECTION_ROOT)
        except CatalogFileError as error:
            raise AnsibleLookupError(str(error)) from None
        entries = []
        for term in terms:
            try:
                entries.append(catalog.resolve(str(term), labels))
            except ResolveError as error:
                if self.get_option("fail_on_error"):
                    raise AnsibleLookupError(str(error)) from None
                entries.append({"error": str(error)})
        return entries
