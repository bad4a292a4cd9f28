#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/remediation_verify.py, which runs in the
# controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediation_verify
short_description: Verify a remediation, in the controller
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - The verification phase of the remediation contract (the C(sre.runbooks.remediation) role);
    runs in the controller as an action plugin.
  - Waits until the rollouts of the changed workloads complete, then until the alert's own
    expression no longer fires in Prometheus, within C(remediation_verify_timeout).
options:
  state:
    description: The state remediation_assess returned.
    type: dict
    required: true
  actions:
    description: The records of the mitigations remediation_apply ran.
    type: list
    elements: dict
    default: []
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
verification:
  description: >-
    recovered, seconds, query and still_firing (the labels of the series that still fire).
  returned: success
  type: dict
outcome:
  description: resolved or unresolved.
  returned: success
  type: str
"""
