#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/remediation_finish.py, which runs in the
# controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediation_finish
short_description: Record, report and notify at the end of a remediation, in the controller
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - The last phase of the remediation contract (the C(sre.runbooks.remediation) role), run
    whatever happened before; runs in the controller as an action plugin.
  - Emits an Event and writes the mitigation history of every changed object, appends the audit
    lines, frees every Lease, lifts the silence, writes report.json, report.md and chart.png and
    posts the notification.
  - Reads what the other phases registered (C(_remediation_assessed), C(_remediation_applied),
    C(_remediation_verified)), so it takes no options.
  - Fails when the alert still fires and the run did not cure it (failed, refused, unresolved,
    approval_required, locked, cooldown, budget), after its report is written.
options: {}
attributes:
  action:
    description: >-
      Indicates this has a corresponding action plugin so some parts of the options can be
      executed on the controller.
    support: full
  async:
    description: Supports being used with the C(async) keyword.
    support: none
  check_mode:
    description: >-
      Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: >-
      Will return details on what has changed (or possibly needs changing in check_mode), when
      in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: all
notes:
  - Internal to the C(sre.runbooks.remediation) role; alert roles and C(playbooks/remediate.yml)
    call it. Single operations for your own playbooks are the collection's other modules.
"""

EXAMPLES = r"""
- name: Remediate HighErrorRate (the role runs every phase)
  ansible.builtin.include_role:
    name: sre.runbooks.high_error_rate
"""

RETURN = r"""
outcome:
  description: The run's outcome.
  returned: always
  type: str
message:
  description: The outcome in one sentence.
  returned: always
  type: str
report:
  description: Paths of report.json, report.md, chart.png (or chart_error) and the audit log.
  returned: always
  type: dict
"""
