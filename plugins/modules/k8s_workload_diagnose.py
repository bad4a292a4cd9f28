#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_workload_diagnose
short_description: Pods, container states, events, revisions, metrics and logs of a workload
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Collects in one call, with concurrent requests, what an on-call engineer reads with
    C(kubectl get pods), C(describe), C(get events), C(rollout history), C(top pods) and
    C(logs | grep) for a Deployment, StatefulSet or DaemonSet, or for the pods of a label
    selector.
  - Per pod, phase, readiness, node, restart counts and, per container, the current and last
    states (reason, exit code, signal), waiting reasons such as C(CrashLoopBackOff) or
    C(ImagePullBackOff), whether it was OOMKilled, requests and limits.
  - The events of the workload, its ReplicaSets or ControllerRevisions, and its pods, oldest
    first; a summary of the revisions, with the age of the newest one so a role can decide
    whether a rollout is recent.
  - With O(metrics), usage from C(metrics.k8s.io); with O(logs), the number of log lines matching
    each pattern. When the cluster cannot give them (no metrics server, logs not served), the
    run does not fail, and RV(missing) says what is missing.
  - Only reads; never reports a change.
options:
  kind:
    description: Kind of the workload; with O(name).
    type: str
    choices: [Deployment, StatefulSet, DaemonSet]
    default: Deployment
  name:
    description: Name of the workload. Its pods are those of its selector.
    type: str
  label_selector:
    description: Diagnose the pods of this label selector (for example V(app=nimify-api)) instead
      of a workload.
    type: str
  namespace:
    description: Namespace of the workload or pods.
    type: str
    required: true
  metrics:
    description: Read CPU and memory usage per container from C(metrics.k8s.io).
    type: bool
    default: false
  logs:
    description:
      - Read the last O(logs.tail_lines) lines of every container's log and count the lines that
        contain each of O(logs.patterns) (plain substrings, case-sensitive).
    type: dict
    suboptions:
      tail_lines:
        description: Lines read per container.
        type: int
        default: 200
      patterns:
        description: Substrings to count.
        type: list
        elements: str
        default: [ERROR, WARN, OOM]
extends_documentation_fragment:
  - sre.runbooks.k8s_auth
  - sre.runbooks.attributes.INFO_MODULE
  - sre.runbooks.attributes.K8S_GROUP
"""

EXAMPLES = r"""
- name: Diagnose nimify-api
  sre.runbooks.k8s_workload_diagnose:
    name: nimify-api
    namespace: nimify-system
    metrics: true
    logs:
      tail_lines: 500
      patterns: [ERROR, WARN, OOM]
  register: diagnosis

- name: Decide whether the last rollout is recent
  ansible.builtin.set_fact:
    recent_rollout: "{{ diagnosis.history.newest_age_seconds < 3600 }}"

- name: Pods of the Triton server by label
  sre.runbooks.k8s_workload_diagnose:
    label_selector: app=triton-server
    namespace: triton-system
"""

RETURN = r"""
workload:
  description:
    - Kind, name, selector, rollout verdict (as kubectl rollout status), paused flag, desired
      replicas and annotations.
  returned: when O(name) is given
  type: dict
pods:
  description: The pods, by name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pod name.
      type: str
    phase:
      description: Pod phase.
      type: str
    ready:
      description: Whether the pod is Ready.
      type: bool
    node:
      description: Node the pod runs on.
      type: str
    restarts:
      description: Restarts of all its containers.
      type: int
    containers:
      description: Per container, C(name), C(image), C(ready), C(restart_count), C(state) and
        C(last_state) (C(state), C(reason), C(exit_code), C(signal), ...), C(waiting_reason),
        C(oom_killed), C(requests), C(limits).
      type: list
      elements: dict
summary:
  description: Counts over the pods, waiting reasons, OOMKilled and crash-looping pods.
  returned: always
  type: dict
  sample:
    pods: 3
    ready: 2
    restarts: 7
    waiting_reasons: {CrashLoopBackOff: 1}
    oom_killed: [nimify-api-5d9c-abcde]
    crash_looping: [nimify-api-5d9c-abcde]
    phases: [Running]
events:
  description: Events of the workload, its revisions and pods, oldest first.
  returned: always
  type: list
  elements: dict
history:
  description: Current revision, number of revisions, the newest one's revision, creation time,
    age in seconds and images, and the previous revision's images.
  returned: when O(name) is given
  type: dict
metrics:
  description: Usage by pod and container (C(cpu), C(memory) as the API gives them).
  returned: when O(metrics=true) and the metrics API answers
  type: dict
logs:
  description: Per container, lines read, counts per pattern and the last 20 matching lines;
    C(counts) totals them.
  returned: when O(logs) is given
  type: dict
missing:
  description: What could not be read and why (metrics API absent, logs unavailable).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_diagnose import diagnose
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError, K8sModule

ARGUMENT_SPEC = dict(
    kind=dict(type="str", default="Deployment", choices=["Deployment", "StatefulSet", "DaemonSet"]),
    name=dict(type="str"),
    label_selector=dict(type="str"),
    namespace=dict(type="str", required=True),
    metrics=dict(type="bool", default=False),
    logs=dict(
        type="dict",
        options=dict(
            tail_lines=dict(type="int", default=200),
            patterns=dict(type="list", elements="str", default=["ERROR", "WARN", "OOM"]),
        ),
    ),
)


def main():
    module = K8sModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        mutually_exclusive=[("name", "label_selector")],
        required_one_of=[("name", "label_selector")],
    )
    try:
        result = diagnose(module.client(), module.params)
    except K8sError as error:
        module.fail_from_exception(error)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
