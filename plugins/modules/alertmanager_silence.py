#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: alertmanager_silence
short_description: Create, extend and expire Alertmanager silences idempotently
version_added: 0.1.0
description:
  - Makes sure alerts matching a set of label matchers are silenced in Alertmanager for a
    window, or that such silences are expired, through the Alertmanager API v2.
  - "Idempotent: with O(state=present) a live silence (active, or pending with the same start)
    that has the same set of matchers, in any order, and the same O(created_by) is reused,
    never duplicated. It is extended, with the new O(comment), when it would end more than
    O(min_extension) before the wanted end; otherwise nothing changes (the comment of a silence
    that is not extended is left alone). A silence is never shortened: to end one early, use
    O(state=absent). Expired silences are never reused."
  - Alertmanager keeps the ID of a silence it extends in place. The module resends the
    server's own matchers and start time so that it does; should Alertmanager still replace
    the silence (it expires the old one and creates a new one with a new ID when an update is
    not allowed in place), the new ID is in RV(silence_id) and the old one in
    RV(previous_silence_id).
  - With O(state=absent) the module expires the silence O(silence_id), or every active or
    pending silence with exactly the set of O(matchers) (and created by O(created_by) when
    set). Expired silences stay listed by Alertmanager in state C(expired) until its retention
    ends.
  - Input is validated before any request, so check mode reports invalid matchers, windows
    and durations as a real run would.
author:
  - sre.runbooks maintainers (!UNKNOWN)
options:
  state:
    description:
      - V(present) makes sure a silence covers the window; V(absent) expires silences.
    type: str
    choices: [present, absent]
    default: present
  matchers:
    description:
      - The label matchers of the silence. Each item is a string or a dict.
      - "A string is one of C(name=\"value\"), C(name!=\"value\"), C(name=~\"regex\") or
        C(name!~\"regex\"), as in Alertmanager and C(amtool). The double quotes around the
        value are optional; inside them, C(\\\") is a double quote, C(\\\\) a backslash and
        C(\\n) a newline, and any other backslash is kept, so C(instance=~\"db-\\d+\") needs no
        doubling. Label names in the string form are C([a-zA-Z_][a-zA-Z0-9_]*)."
      - A dict has the keys C(name), C(value), C(is_regex) (default V(false)) and C(is_equal)
        (default V(true); V(false) negates the matcher). Use it for label names or values the
        string form cannot express.
      - Regular expressions are anchored by Alertmanager (RE2 syntax). Lookaround assertions
        and backreferences are refused before any request; patterns using RE2-only syntax
        such as C(\\pL) or C([[:alpha:]]) are left for Alertmanager to check.
      - Order does not matter and duplicates are ignored. At least one matcher must not match
        the empty string (an equality matcher with a non-empty value, a regex such as C(.+),
        or a negative matcher), as Alertmanager requires.
      - Required with O(state=present); with O(state=absent), give O(matchers) or
        O(silence_id).
    type: list
    elements: raw
  duration:
    description:
      - How long the silence lasts from O(starts_at), in whole units C(w), C(d), C(h), C(m),
        C(s), largest first, for example V(30m), V(1h30m) or V(2d).
      - With O(state=present), exactly one of O(duration) and O(ends_at) is required.
    type: str
  starts_at:
    description:
      - When the silence starts, an RFC 3339 timestamp with a time zone such as
        V(2030-01-31T22:00:00Z). Defaults to now (the clock of the host running the module).
      - A silence starting in the future is C(pending) until then.
    type: str
  ends_at:
    description:
      - When the silence ends, an RFC 3339 timestamp with a time zone. Must be after
        O(starts_at) and in the future.
    type: str
  min_extension:
    description:
      - With O(duration), the window moves with every run; an existing silence is only
        extended when the wanted end is more than this much later than its current end, so a
        rerun a few minutes later reports no change. Same units as O(duration); V(0s) extends
        on any difference.
      - Not used with O(ends_at), whose end is exact.
    type: str
    default: 5m
  comment:
    description:
      - Why the alerts are silenced, shown in Alertmanager. Required with O(state=present).
    type: str
  created_by:
    description:
      - Author of the silence. Part of its identity, so silences of other authors are never
        reused.
      - With O(state=present) it defaults to V(sre.runbooks). With O(state=absent) and
        O(matchers), only silences by this author are expired when it is set, those of any
        author when it is not. Not used with O(silence_id).
    type: str
  silence_id:
    description:
      - With O(state=absent), the ID of the silence to expire. An unknown ID or an already
        expired silence changes nothing.
      - Mutually exclusive with O(matchers).
    type: str
extends_documentation_fragment:
  - sre.runbooks.alertmanager
  - sre.runbooks.transport
  - sre.runbooks.attributes
  - sre.runbooks.attributes.ALERTMANAGER_GROUP
notes:
  - "In check mode nothing is created or expired; the result says what would happen, with
    RV(silence_id) V(null) for a silence that would be created."
  - Diff mode shows the silence before and after (matchers, start, end, comment, author, state).
seealso:
  - module: sre.runbooks.alertmanager_alert_info
  - name: Alertmanager silences
    description: How Alertmanager matches alerts against silences.
    link: https://prometheus.io/docs/alerting/latest/alertmanager/#silences
"""

EXAMPLES = r"""
- name: Silence disk alerts of one host for an hour
  sre.runbooks.alertmanager_silence:
    url: http://alertmanager.monitoring:9093
    matchers:
      - alertname=~"Disk(Full|Filling)"
      - instance="db-1:9100"
    duration: 1h
    comment: Resizing the data volume, CHG-1234

- name: Silence a service during a remediation, then lift the silence
  module_defaults:
    group/sre.runbooks.alertmanager:
      url: "{{ alertmanager_url }}"
      token: "{{ alertmanager_token }}"
  block:
    - name: Silence the service's alerts during the remediation
      sre.runbooks.alertmanager_silence:
        matchers:
          - name: service
            value: checkout
          - severity!="info"
        duration: 30m
        comment: "Runbook {{ runbook_name }}: restarting checkout"
      register: remediation_silence

    - name: Restart the service
      ansible.builtin.include_tasks: restart.yml
  always:
    - name: Lift the silence (in check mode no silence was created, so there is none to lift)
      sre.runbooks.alertmanager_silence:
        state: absent
        silence_id: "{{ remediation_silence.silence_id }}"
      when: remediation_silence.silence_id | default(none) is not none

- name: Silence a maintenance window tonight
  sre.runbooks.alertmanager_silence:
    url: http://alertmanager.monitoring:9093
    matchers: ['cluster="eu-1"']
    starts_at: "2030-01-31T22:00:00Z"
    ends_at: "2030-02-01T02:00:00Z"
    comment: Network maintenance
    created_by: netops

- name: Expire every live silence on these matchers, whoever created it
  sre.runbooks.alertmanager_silence:
    url: http://alertmanager.monitoring:9093
    state: absent
    matchers:
      - alertname=~"Disk(Full|Filling)"
      - instance="db-1:9100"
"""

RETURN = r"""
outcome:
  description:
    - What the module did, or would do in check mode. (Not named C(action), which Ansible
      callbacks overwrite with the module name.)
    - V(created), V(extended) or V(unchanged) with O(state=present); V(expired) or
      V(unchanged) with O(state=absent).
  returned: always
  type: str
  sample: created
silence_id:
  description:
    - The ID of the silence created, extended or reused, or of the silence expired (the only
      one, or O(silence_id)).
    - V(null) in check mode when a silence would be created (Alertmanager assigns the ID),
      and with O(state=absent) when no or several silences matched (see
      RV(expired_silence_ids)).
  returned: always
  type: str
  sample: 9a2a4b3b-0d7e-4a4c-8a48-8fd1c56a5f0e
previous_silence_id:
  description:
    - The ID of a silence Alertmanager replaced (expired) instead of extending it in place.
  returned: when Alertmanager gave the extended silence a new ID
  type: str
expired_silence_ids:
  description:
    - The IDs of the silences expired, or that would be in check mode.
  returned: with O(state=absent)
  type: list
  elements: str
  sample: [9a2a4b3b-0d7e-4a4c-8a48-8fd1c56a5f0e]
silence:
  description:
    - The silence as Alertmanager shows it after the run, or as it would be in check mode.
    - V(null) when O(state=absent) matched no or several silences.
  returned: always
  type: dict
  contains:
    id:
      description: The silence ID; V(null) for a silence that would be created in check mode.
      type: str
    state:
      description: V(active), V(pending) or V(expired).
      type: str
    matchers:
      description: The matchers, in the dict form of O(matchers).
      type: list
      elements: dict
      sample: [{name: alertname, value: DiskFull, is_regex: false, is_equal: true}]
    starts_at:
      description: Start of the silence, RFC 3339 in UTC.
      type: str
    ends_at:
      description: End of the silence, RFC 3339 in UTC.
      type: str
    updated_at:
      description: When Alertmanager last changed the silence; V(null) in check mode.
      type: str
    created_by:
      description: The author.
      type: str
    comment:
      description: The comment.
      type: str
  sample:
    id: 9a2a4b3b-0d7e-4a4c-8a48-8fd1c56a5f0e
    state: active
    matchers: [{name: alertname, value: DiskFull, is_regex: false, is_equal: true}]
    starts_at: "2030-01-31T22:00:00.000Z"
    ends_at: "2030-01-31T23:00:00.000Z"
    updated_at: "2030-01-31T22:00:00.000Z"
    created_by: sre.runbooks
    comment: Resizing the data volume
"""

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.alertmanager import (
    DEFAULT_MIN_EXTENSION,
    AlertmanagerModule,
    InputError,
    run_silence,
)


def main():
    module = AlertmanagerModule(
        argument_spec=dict(
            state=dict(type="str", choices=["present", "absent"], default="present"),
            matchers=dict(type="list", elements="raw"),
            duration=dict(type="str"),
            starts_at=dict(type="str"),
            ends_at=dict(type="str"),
            min_extension=dict(type="str", default=DEFAULT_MIN_EXTENSION),
            comment=dict(type="str"),
            created_by=dict(type="str"),
            silence_id=dict(type="str"),
        ),
        mutually_exclusive=[("duration", "ends_at"), ("silence_id", "matchers")],
        required_if=[
            ("state", "present", ("matchers", "comment")),
            ("state", "present", ("duration", "ends_at"), True),
            ("state", "absent", ("silence_id", "matchers"), True),
        ],
        supports_check_mode=True,
    )
    try:
        result = run_silence(
            module.client(), module.params, check_mode=module.check_mode, diff=module._diff
        )
    except InputError as error:
        module.fail_json(msg=str(error))
    except APIError as error:
        module.fail_from_exception(error, **getattr(error, "result", {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
