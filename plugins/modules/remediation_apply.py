#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/remediation_apply.py, which runs in the
# controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediation_apply
short_description: Apply one planned mitigation of a remediation, in the controller
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - The mitigation phase of the remediation contract (the C(sre.runbooks.remediation) role), one
    task per planned decision; runs in the controller as an action plugin.
  - Executors - rollout_undo, rollout_restart, scale, container_patch, configmap_patch,
    delete_pods, exec, http (through the API server proxy), pvc_expand - use the same code as
    the collection's modules. In check mode the API server dry-runs each change; exec and
    changing HTTP requests are not sent.
  - The first mitigation of a run silences the alert in Alertmanager.
options:
  state:
    description: The state remediation_assess returned.
    type: dict
    required: true
  decision:
    description: One of the decisions remediation_assess planned.
    type: dict
    required: true
  first:
    description: Whether this is the run's first mitigation (it silences the alert).
    type: bool
    default: false
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
record:
  description: >-
    What the mitigation did - action, reason, object, before, after, changed, check_mode, at.
  returned: success
  type: dict
silence_id:
  description: The ID of the silence the first mitigation created, else an empty string.
  returned: always
  type: str
"""
