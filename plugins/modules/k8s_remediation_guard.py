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
    C(sre-runbooks-<kind>-<name>) in the object's namespace for O(holder), first for the target
    and then for each of O(objects). A Lease held by another run and renewed less than its
    C(leaseDurationSeconds) ago is respected (V(locked)); an expired one is taken over. Creation
    and takeover send the Lease's C(resourceVersion), so of two concurrent runs exactly one wins.
  - While holding a Lease, reads the object's annotation C(sre.runbooks/mitigations), the
    recent mitigations of that object. The object is held back, and its Lease given back, when
    O(alert) itself mitigated it less than O(cooldown) seconds ago (V(cooldown), a storm of the
    same remediation), or when it was mitigated O(budget) times by any alerts within
    O(budget_window) seconds (V(budget), a flapping object). Another alert's earlier cure alone
    never holds a run back.
  - When the target is held back, RV(outcome) says why and nothing else is taken. Held objects
    of O(objects) are listed in RV(held) and the others in RV(taken), so that only the
    mitigations on held objects are left out.
  - With O(state=released), emits one C(events.k8s.io/v1) Event per record on the record's
    object (C(reportingController=sre.runbooks), reason, action, note with the alert and
    before -> after), adds the run's actions to the history of every object a record changed
    (and of the target when O(mitigated)), appends one JSON line per record and one for the run
    to O(audit_log), and frees the Leases of the target and O(objects) that O(holder) holds.
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
      - Seconds after O(alert)'s own mitigation of an object during which the same alert does
        not act on it again (V(cooldown)). V(0) disables the cooldown.
    type: int
    default: 900
  budget:
    description:
      - At most this many mitigations of one object, by any alerts, within O(budget_window);
        then runs leave it alone (V(budget)). V(0) disables the budget.
    type: int
    default: 3
  budget_window:
    description: Seconds over which O(budget) counts mitigations.
    type: int
    default: 3600
  objects:
    description:
      - Other objects than the target that the run will change (or, with O(state=released),
        whose Leases it holds). Each is taken, checked and recorded like the target.
    type: list
    elements: dict
    default: []
    suboptions:
      kind:
        description: The object's kind.
        type: str
        required: true
        choices:
          - Deployment
          - StatefulSet
          - DaemonSet
          - Pod
          - Service
          - ConfigMap
          - PersistentVolumeClaim
      namespace:
        description: The object's namespace.
        type: str
        required: true
      name:
        description: The object's name.
        type: str
        required: true
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
- name: Take the target's Lease unless another run holds it, or the cooldown or budget runs
  sre.runbooks.k8s_remediation_guard:
    name: nimify-api
    namespace: nimify-system
    holder: "{{ run_id }}"
    alert: HighErrorRate
    cooldown: 900
    budget: 3
    budget_window: 3600
  register: guard

- name: Also take the Lease of another object the mitigations change
  sre.runbooks.k8s_remediation_guard:
    name: nimify-api
    namespace: nimify-system
    holder: "{{ run_id }}"
    alert: HighErrorRate
    objects:
      - {kind: Deployment, namespace: triton-system, name: triton-server}
  register: others

- name: Record the rollback and free the Lease
  sre.runbooks.k8s_remediation_guard:
    state: released
    name: nimify-api
    namespace: nimify-system
    holder: "{{ run_id }}"
    alert: HighErrorRate
    mitigated: true
    objects:
      - {kind: Deployment, namespace: triton-system, name: triton-server}
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
  description:
    - For the target, V(acquired), V(locked) (another run holds the Lease), V(cooldown) (this
      alert mitigated it recently) or V(budget) (it was mitigated too often recently).
  returned: when O(state=acquired)
  type: str
  sample: acquired
message:
  description: Why the target is held back, in one sentence; empty when acquired.
  returned: when O(state=acquired)
  type: str
  sample: >-
    run 20261203T101500Z-high-error-rate-0a1b is remediating Deployment
    nimify-system/nimify-api
holder:
  description: Who holds the target's Lease after the call.
  returned: when O(state=acquired)
  type: str
remaining:
  description: Seconds until a held-back target may be mitigated again (cooldown or budget).
  returned: when O(state=acquired)
  type: int
taken:
  description: The objects whose Leases this run holds after the call (the target first).
  returned: when O(state=acquired)
  type: list
  elements: dict
held:
  description:
    - The objects of O(objects) held back, each with C(object), C(outcome) (V(locked),
      V(cooldown) or V(budget)) and C(message).
  returned: when O(state=acquired)
  type: list
  elements: dict
lease:
  description: Name and namespace of the target's Lease.
  returned: always
  type: dict
  sample: {name: sre-runbooks-deployment-nimify-api, namespace: nimify-system}
events:
  description: Names of the Events emitted.
  returned: when O(state=released)
  type: list
  elements: str
released:
  description: Whether the target's Lease was freed.
  returned: when O(state=released)
  type: bool
released_objects:
  description: Every object whose Lease was freed.
  returned: when O(state=released)
  type: list
  elements: dict
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_guard import (
    Guard,
    Limits,
    append_audit,
    distinct_objects,
    event_body,
    give_back,
    micro_time,
    object_ref,
    take,
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

OBJECT_SPEC = dict(
    kind=dict(
        type="str",
        required=True,
        choices=[
            "Deployment",
            "StatefulSet",
            "DaemonSet",
            "Pod",
            "Service",
            "ConfigMap",
            "PersistentVolumeClaim",
        ],
    ),
    namespace=dict(type="str", required=True),
    name=dict(type="str", required=True),
)

ARGUMENT_SPEC = dict(
    workload_argument_spec(),
    state=dict(type="str", default="acquired", choices=["acquired", "released"]),
    holder=dict(type="str", required=True),
    alert=dict(type="str", required=True),
    lease_duration=dict(type="int", default=900),
    cooldown=dict(type="int", default=900),
    budget=dict(type="int", default=3),
    budget_window=dict(type="int", default=3600),
    objects=dict(type="list", elements="dict", default=[], options=OBJECT_SPEC),
    records=dict(type="list", elements="dict", default=[], options=RECORD_SPEC),
    mitigated=dict(type="bool", default=False),
    outcome=dict(type="str"),
    audit_log=dict(type="path"),
)


def _limits(params):
    return Limits(
        params["lease_duration"], params["cooldown"], params["budget"], params["budget_window"]
    )


def acquire(guard, params, check_mode):
    target = object_ref(params)
    limits = _limits(params)
    taken, held = take(
        guard.client,
        guard.holder,
        params["alert"],
        [target],
        limits,
        check_mode=check_mode,
    )
    result = dict(changed=False, outcome="acquired", holder=guard.holder, message="")
    if held:
        hold = held[0]
        # A held-back target: its Lease was given back (or belongs to the run named).
        result.update(
            outcome=hold["outcome"],
            holder=hold.get("holder"),
            message=hold["message"],
            remaining=hold.get("remaining", 0),
            taken=[],
            held=[],
        )
        return result
    others, held = take(
        guard.client,
        guard.holder,
        params["alert"],
        distinct_objects(params["objects"], exclude=[target]),
        limits,
        check_mode=check_mode,
    )
    result.update(taken=taken + others, held=held, remaining=0, changed=not check_mode)
    return result


def release(guard, params, check_mode):
    records = params["records"]
    now = utcnow()
    result = dict(changed=False, events=[], released=False, released_objects=[])
    if check_mode:
        return result
    for record in records:
        result["events"].append(guard.emit(event_body(record, guard.holder, params["alert"], now)))
    target = object_ref(params)
    objects = [target, *distinct_objects(params["objects"], exclude=[target])]
    freed = give_back(
        guard.client,
        guard.holder,
        params["alert"],
        objects,
        records,
        mitigated_target=params["mitigated"],
        limits=_limits(params),
        now=now,
    )
    result["released_objects"] = freed
    result["released"] = target in freed
    if params["audit_log"]:
        base = {"run": guard.holder, "alert": params["alert"], "at": micro_time(now)}
        lines = [dict(base, kind="action", **record) for record in records]
        lines.append(dict(base, kind="run", target=target, outcome=params["outcome"]))
        append_audit(params["audit_log"], lines)
    result["changed"] = bool(records) or params["mitigated"] or bool(freed)
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
