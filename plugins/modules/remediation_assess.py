#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

# The documentation of the action plugin plugins/action/remediation_assess.py, which runs in the
# controller.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediation_assess
short_description: Assess an alert and decide its mitigations, in the controller
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - The first phase of the remediation contract (the C(sre.runbooks.remediation) role); runs in the
    controller as an action plugin, with one Kubernetes, Prometheus and Alertmanager client.
  - Reads the role's settings (the C(remediation_*) variables) itself, so it takes no options.
  - Queries the alert's C(ALERTS) series and the role's queries in one concurrent batch and stops
    when the alert no longer fires; resolves a Pod target to its controller through
    C(ownerReferences); takes the target's Lease and checks its cooldown and budget; diagnoses
    the workload and runs the role's probes at the same time.
  - Evaluates the role's rules (bare C(when) expressions over C(findings), see docs/findings.md)
    and applies the guardrails (protected namespaces, approval, the mitigation cap, the Leases,
    cooldowns and budgets of every other object a mitigation changes).
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
state:
  description: >-
    The run's state for the next phases (run ID, target, findings, decisions, Leases held,
    timeline).
  returned: always
  type: dict
outcome:
  description: >-
    The run's outcome when it stops here (not_firing, refused, locked, cooldown, budget,
    approval_required, unresolved, planned), else null.
  returned: success
  type: str
planned:
  description: The decisions whose mitigations run next, in order.
  returned: always
  type: list
  elements: dict
verify:
  description: Whether the verification phase runs after the mitigations.
  returned: always
  type: bool
"""
