#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_rollout
short_description: Status, history, restart, undo, pause and resume of Kubernetes rollouts
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - What C(kubectl rollout status|history|restart|undo|pause|resume) do, for a Deployment,
    StatefulSet or DaemonSet, with check mode and diff.
  - Revisions are read as kubectl reads them, from the Deployment's ReplicaSets and from the
    ControllerRevisions of a StatefulSet or DaemonSet, so the numbers agree with
    C(kubectl rollout history).
  - kubernetes.core has no rollout status, history or restart (its issue 567), and its
    M(kubernetes.core.k8s_rollback) knows neither StatefulSets nor revision numbers.
options:
  action:
    description:
      - V(status) reports the rollout's progress (with O(wait), waits for it to finish).
      - V(history) lists the revisions.
      - V(restart) sets the pod template annotation C(kubectl.kubernetes.io/restartedAt) to now,
        as C(kubectl rollout restart) does, which rolls every pod. Always a change.
      - V(undo) rolls back to the previous revision, or to O(to_revision). For a Deployment the
        target ReplicaSet's pod template (without its C(pod-template-hash) label) replaces the
        Deployment's; for a StatefulSet or DaemonSet the ControllerRevision's template is
        patched in; both as kubectl does. Undoing to the revision that runs already changes
        nothing (RV(msg) says so). A paused Deployment is refused, as by kubectl.
      - V(pause) and V(resume) set C(spec.paused) of a Deployment (kubectl supports no other
        kind); a change only when the flag differs.
    type: str
    choices: [status, history, restart, undo, pause, resume]
    default: status
  to_revision:
    description:
      - With O(action=undo), the revision to go back to; V(0) is the previous one.
    type: int
    default: 0
  wait:
    description:
      - With O(action=status), wait until the rollout is complete; fail after O(wait_timeout)
        seconds with kubectl's last message (for example that replicas are still being
        updated, and that the rollout is paused).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait with O(wait).
    type: int
    default: 300
extends_documentation_fragment:
  - sre.runbooks.k8s_workload
  - sre.runbooks.k8s_auth
  - sre.runbooks.attributes
  - sre.runbooks.attributes.K8S_GROUP
notes:
  - Check mode sends the patch with server-side dry run, so it fails for the same reasons a real
    run would and the diff shows the server's own result. V(status) and V(history) only read.
  - The diff shows the pod template and the paused flag before and after.
"""

EXAMPLES = r"""
- name: Show the revisions of nimify-api
  sre.runbooks.k8s_rollout:
    name: nimify-api
    namespace: nimify-system
    action: history
  register: history

- name: Roll back the last rollout
  sre.runbooks.k8s_rollout:
    name: nimify-api
    namespace: nimify-system
    action: undo

- name: Go back to revision 3 of a StatefulSet
  sre.runbooks.k8s_rollout:
    kind: StatefulSet
    name: postgres
    namespace: database
    action: undo
    to_revision: 3

- name: Restart the pods of triton-server and wait for them
  sre.runbooks.k8s_rollout:
    name: triton-server
    namespace: triton-system
    action: restart

- name: Wait up to five minutes for the rollout
  sre.runbooks.k8s_rollout:
    name: triton-server
    namespace: triton-system
    action: status
    wait: true
    wait_timeout: 300
"""

RETURN = r"""
revision_before:
  description: The revision running before the module ran.
  returned: always
  type: int
  sample: 3
revision_after:
  description:
    - The revision running afterwards. After V(restart) or V(undo) it is read back once the
      controller has seen the change; in check mode it is the revision the change would get.
  returned: always
  type: int
  sample: 4
target_revision:
  description: With O(action=undo), the revision whose template was restored.
  returned: when O(action=undo)
  type: int
  sample: 2
msg:
  description: Why nothing changed, when nothing did.
  returned: when a changing action found nothing to do
  type: str
  sample: skipped rollback (current template already matches revision 2)
rollout:
  description: The rollout's progress, with O(action=status).
  returned: when O(action=status)
  type: dict
  contains:
    done:
      description: Whether the rollout is complete.
      type: bool
    message:
      description: kubectl rollout status' message.
      type: str
      sample: deployment "nimify-api" successfully rolled out
    desired:
      description: Replicas (DaemonSet, pods) wanted.
      type: int
    updated:
      description: Replicas with the newest template.
      type: int
    ready:
      description: Ready replicas.
      type: int
    available:
      description: Available replicas.
      type: int
    paused:
      description: Whether the Deployment is paused.
      type: bool
    generation:
      description: metadata.generation.
      type: int
    observed_generation:
      description: status.observedGeneration; lower than RV(rollout.generation) while the
        controller has not seen the latest spec.
      type: int
    conditions:
      description: The workload's status conditions.
      type: list
      elements: dict
    newest_replica_set:
      description: Name, revision, replicas, ready replicas and conditions of a Deployment's
        newest ReplicaSet.
      type: dict
      returned: for Deployments
history:
  description: The revisions, oldest first, with O(action=history).
  returned: when O(action=history)
  type: list
  elements: dict
  contains:
    revision:
      description: Revision number.
      type: int
    name:
      description: ReplicaSet or ControllerRevision holding the revision.
      type: str
    change_cause:
      description: The C(kubernetes.io/change-cause) annotation, if any.
      type: str
    images:
      description: Container images of the revision's template.
      type: list
      elements: str
    created:
      description: When the revision's object was created.
      type: str
    age_seconds:
      description: Seconds since then.
      type: int
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_rollout import run_rollout
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    K8sModule,
    workload_argument_spec,
)

ARGUMENT_SPEC = dict(
    workload_argument_spec(),
    action=dict(
        type="str",
        default="status",
        choices=["status", "history", "restart", "undo", "pause", "resume"],
    ),
    to_revision=dict(type="int", default=0),
    wait=dict(type="bool", default=False),
    wait_timeout=dict(type="int", default=300),
)


def main():
    module = K8sModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result, diff = run_rollout(module.client(), module.params, module.check_mode)
    except K8sError as error:
        module.fail_from_exception(error, **getattr(error, "result", {}))
    if module._diff and diff is not None:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
