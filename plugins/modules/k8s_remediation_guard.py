#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_remediation_guard
short_description: Per-target Lease and cooldown of a remediation, and its Events and audit lines
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - The guardrails that the remediation roles keep in the cluster, so that they hold across
    runners, AWX nodes and restarts.
  - With O(state=acquired), takes the C(coordination.k8s.io/v1) Lease
    C(sre-runbooks-<kind>-<name>) in the target's namespace for O(holder). A Lease held by
    another run and renewed less than its C(leaseDurationSeconds) ago is respected
    (RV(outcome=locked)); an expired one is taken over. Creation and takeover send the Lease's
    C(resourceVersion), so of two concurrent runs exactly one wins. Then reads the target's
    annotation C(sre.runbooks/last-mitigation); when its time lies within O(cooldown), the
    Lease is given back and RV(outcome=cooldown).
  - With O(state=released), emits one C(events.k8s.io/v1) Event per record on the record's
    object (C(reportingController=sre.runbooks), reason, action, note with the alert and
    before -> after), writes the cooldown annotation on the target when O(mitigated), appends
    one JSON line per record and one for the run to O(audit_log), and frees the Lease if
    O(holder) holds it.
  - This is a module because M(kubernetes.core.k8s) can create a Lease but not take one
    compare-and-swap with expiry, and doing the Lease, the cooldown and the Events in one call
    keeps a remediation to few API round trips.
extends_documentation_fragment:
  - sre.runbooks.k8s_auth
  - sre.runbooks.k8s_workload
  - sre.runbooks.attributes
  - sre.runbooks.attributes.K8S_GROUP
attributes:
  check_mode:
    support: full
    details: Reads the Lease and the cooldown; takes, writes and emits nothing.
  diff_mode:
    support: none
  idempotent:
    support: partial
    details: Acquiring a Lease this holder already holds renews it.
options:
  state:
    description:
      - V(acquired) takes the Lease and checks the cooldown; V(released) records and frees it.
    type: str
    choices: [acquired, released]
    default: acquired
  holder:
    description: Identity of the run, for example its run ID.
    type: str
    required: true
  alert:
    description: The alert being remediated, for Events, the cooldown stamp and audit lines.
    type: str
    required: true
  lease_duration:
    description:
      - Seconds after its last renewal when the Lease counts as abandoned, so that a run that
        died does not block the target for longer.
    type: int
    default: 900
  cooldown:
    description:
      - Seconds after the last mitigation of the target during which further runs are refused
        (RV(outcome=cooldown)). V(0) disables the cooldown.
    type: int
    default: 900
  records:
    description:
      - With O(state=released), the changes made, one Event and audit line each.
    type: list
    elements: dict
    default: []
    suboptions:
      action:
        description: What was done, for example V(rollout_undo).
        type: str
        required: true
      reason:
        description: The Event's reason, CamelCase, for example V(RolloutUndone).
        type: str
      object:
        description: The changed object, C(kind), C(namespace) and C(name).
        type: dict
        required: true
      before:
        description: The state before, as text.
        type: raw
      after:
        description: The state after, as text.
        type: raw
      at:
        description: When the change was made.
        type: str
      changed:
        description: Whether the change was made (records of unchanged objects can be left out).
        type: bool
      check_mode:
        description: Whether the record comes from a check-mode run (then nothing is recorded).
        type: bool
  mitigated:
    description:
      - With O(state=released), whether this run changed something, which starts the cooldown.
    type: bool
    default: false
  outcome:
    description: With O(state=released), the run's outcome for the audit line.
    type: str
  audit_log:
    description:
      - With O(state=released), a file to append JSON lines to (created with mode C(0600)).
    type: path
"""

EXAMPLES = r"""
- name: Take the target's Lease unless another run holds it or the cooldown runs
  sre.runbooks.k8s_remediation_guard:
    name: nimify-api
    namespace: nimify-system
    holder: "{{ run_id }}"
    alert: HighErrorRate
    cooldown: 900
  register: guard

- name: Record the rollback and free the Lease
  sre.runbooks.k8s_remediation_guard:
    state: released
    name: nimify-api
    namespace: nimify-system
    holder: "{{ run_id }}"
    alert: HighErrorRate
    mitigated: true
    outcome: resolved
    audit_log: /var/log/sre-runbooks/audit.jsonl
    records:
      - action: rollout_undo
        reason: RolloutUndone
        object: {kind: Deployment, namespace: nimify-system, name: nimify-api}
        before: revision 2
        after: revision 3
"""

RETURN = r"""
outcome:
  description: V(acquired), V(locked) (another run holds the Lease) or V(cooldown).
  returned: when O(state=acquired)
  type: str
  sample: acquired
holder:
  description: Who holds the Lease after the call.
  returned: when O(state=acquired)
  type: str
lease:
  description: Name and namespace of the Lease.
  returned: always
  type: dict
  sample: {name: sre-runbooks-deployment-nimify-api, namespace: nimify-system}
last_mitigation:
  description: The target's cooldown stamp (C(at), C(alert), C(run), C(actions)), if any.
  returned: when O(state=acquired)
  type: dict
cooldown_remaining:
  description: Seconds left of the cooldown.
  returned: when O(state=acquired)
  type: int
events:
  description: Names of the Events emitted.
  returned: when O(state=released)
  type: list
  elements: str
released:
  description: Whether the Lease was freed.
  returned: when O(state=released)
  type: bool
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_guard import (
    Guard,
    append_audit,
    cooldown_remaining,
    event_body,
    last_mitigation,
    micro_time,
    utcnow,
)
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    K8sModule,
    workload_argument_spec,
)

RECORD_SPEC = dict(
    action=dict(type="str", required=True),
    reason=dict(type="str"),
    object=dict(type="dict", required=True),
    before=dict(type="raw"),
    after=dict(type="raw"),
    at=dict(type="str"),
    changed=dict(type="bool"),
    check_mode=dict(type="bool"),
)

ARGUMENT_SPEC = dict(
    workload_argument_spec(),
    state=dict(type="str", default="acquired", choices=["acquired", "released"]),
    holder=dict(type="str", required=True),
    alert=dict(type="str", required=True),
    lease_duration=dict(type="int", default=900),
    cooldown=dict(type="int", default=900),
    records=dict(type="list", elements="dict", default=[], options=RECORD_SPEC),
    mitigated=dict(type="bool", default=False),
    outcome=dict(type="str"),
    audit_log=dict(type="path"),
)


def acquire(guard, params, check_mode):
    outcome, holder, _lease = guard.acquire(params["lease_duration"], check_mode)
    result = dict(changed=False, outcome=outcome, holder=holder)
    if outcome != "acquired":
        return result
    # The cooldown is read while holding the Lease: a run that finished just before us has
    # written its stamp by the time it freed the Lease.
    stamp = last_mitigation(guard.read_target())
    left = cooldown_remaining(stamp, params["cooldown"], utcnow())
    result.update(last_mitigation=stamp, cooldown_remaining=left)
    if left:
        if not check_mode:
            guard.release()
        result["outcome"] = "cooldown"
    else:
        result["changed"] = not check_mode
    return result


def release(guard, params, check_mode):
    records = params["records"]
    now = utcnow()
    result = dict(changed=False, events=[], released=False)
    if check_mode:
        return result
    for record in records:
        result["events"].append(guard.emit(event_body(record, guard.holder, params["alert"], now)))
    if params["mitigated"]:
        guard.stamp(
            {
                "at": micro_time(now),
                "alert": params["alert"],
                "run": guard.holder,
                "actions": [record["action"] for record in records],
            }
        )
    result["released"] = guard.release()
    if params["audit_log"]:
        base = {"run": guard.holder, "alert": params["alert"], "at": micro_time(now)}
        target = {"kind": guard.kind, "namespace": guard.namespace, "name": guard.name}
        lines = [dict(base, kind="action", **record) for record in records]
        lines.append(dict(base, kind="run", target=target, outcome=params["outcome"]))
        append_audit(params["audit_log"], lines)
    result["changed"] = bool(records) or params["mitigated"] or result["released"]
    return result


def main():
    module = K8sModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = module.params
    guard = Guard(
        module.client(), params["kind"], params["namespace"], params["name"], params["holder"]
    )
    try:
        if params["state"] == "acquired":
            result = acquire(guard, params, module.check_mode)
        else:
            result = release(guard, params, module.check_mode)
    except K8sError as error:
        module.fail_from_exception(error)
    result["lease"] = dict(name=guard.lease, namespace=guard.namespace)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
