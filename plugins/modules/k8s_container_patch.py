#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_container_patch
short_description: Set resources, environment, probes and pod annotations of one container
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Changes one named container of a Deployment, StatefulSet or DaemonSet with a strategic merge
    patch that carries only what differs, so other containers and fields are left alone.
  - "Idempotent: quantities are compared by value (V(2Gi) equals V(2048Mi), V(500m) equals
    V(0.5)), environment variables by name, probe fields one by one; nothing is sent when all
    is as asked."
  - "What is asked is compared with the container as the API server stores it: an empty value
    is no value (a variable set to V(\"\") is stored without C(value)), probe fields left out
    or zero are their defaults (C(periodSeconds=10), C(httpGet.scheme=HTTP), ...), a
    C(fieldRef) has C(apiVersion=v1), and requests and limits are rounded up to C(1m) as the
    server rounds them."
  - A change of the pod template rolls the workload's pods, as any template change does.
  - kubernetes.core's M(kubernetes.core.k8s) can patch a container only by sending the path of
    the whole container list, and compares quantities as strings.
options:
  container:
    description: Name of the container in the pod template.
    type: str
    required: true
  resources:
    description:
      - "Requests and limits to set, for example C({limits: {memory: 2Gi}}). Resources not named
        are kept; a value of V(null) removes one."
    type: dict
    suboptions:
      requests:
        description: Requests by resource name (C(cpu), C(memory), ...).
        type: dict
      limits:
        description: Limits by resource name.
        type: dict
  env:
    description:
      - Environment variables to set (added or replaced by name). Others are kept.
    type: list
    elements: dict
    suboptions:
      name:
        description: Variable name.
        type: str
        required: true
      value:
        description: Value (converted to a string).
        type: raw
      value_from:
        description: A Kubernetes C(valueFrom) source instead of O(env[].value).
        type: dict
  env_remove:
    description: Names of environment variables to remove.
    type: list
    elements: str
    default: []
  liveness_probe:
    description:
      - "Fields of the liveness probe to set, in the API's camelCase, for example
        C({failureThreshold: 5, timeoutSeconds: 3}). Fields not named are kept."
    type: dict
  readiness_probe:
    description: Fields of the readiness probe to set, as for O(liveness_probe).
    type: dict
  startup_probe:
    description: Fields of the startup probe to set, as for O(liveness_probe).
    type: dict
  annotations:
    description:
      - Annotations of the pod template to set; a value of V(null) removes one.
    type: dict
extends_documentation_fragment:
  - sre.runbooks.k8s_workload
  - sre.runbooks.k8s_auth
  - sre.runbooks.attributes
  - sre.runbooks.attributes.K8S_GROUP
notes:
  - Check mode sends the patch with server-side dry run; RV(after) is the server's answer.
"""

EXAMPLES = r"""
- name: Raise the memory limit of nimify-api after an OOMKill
  sre.runbooks.k8s_container_patch:
    name: nimify-api
    namespace: nimify-system
    container: nimify-api
    resources:
      requests: {memory: 1Gi}
      limits: {memory: 2Gi}

- name: Fall back to CPU-only inference
  sre.runbooks.k8s_container_patch:
    name: nimify-api
    namespace: nimify-system
    container: nimify-api
    env:
      - name: CUDA_VISIBLE_DEVICES
        value: ""

- name: Give a slow model more time to load
  sre.runbooks.k8s_container_patch:
    name: triton-server
    namespace: triton-system
    container: triton
    startup_probe:
      failureThreshold: 60
    annotations:
      sre.runbooks/last-change: "ModelLoadFailure runbook"
"""

RETURN = r"""
before:
  description: The container and the pod template annotations before.
  returned: always
  type: dict
  contains:
    container:
      description: The container as the API returned it.
      type: dict
    annotations:
      description: The pod template's annotations.
      type: dict
after:
  description: The same afterwards (in check mode, as the server's dry run answered).
  returned: always
  type: dict
patch:
  description: The strategic merge patch sent, or V(null) when nothing needed changing.
  returned: always
  type: dict
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_container import (
    run_container_patch,
)
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import (
    K8sError,
    K8sModule,
    workload_argument_spec,
)

ARGUMENT_SPEC = dict(
    workload_argument_spec(),
    container=dict(type="str", required=True),
    resources=dict(type="dict", options=dict(requests=dict(type="dict"), limits=dict(type="dict"))),
    env=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            value=dict(type="raw"),
            value_from=dict(type="dict"),
        ),
        mutually_exclusive=[("value", "value_from")],
    ),
    env_remove=dict(type="list", elements="str", default=[]),
    liveness_probe=dict(type="dict"),
    readiness_probe=dict(type="dict"),
    startup_probe=dict(type="dict"),
    annotations=dict(type="dict"),
)


def main():
    module = K8sModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result, diff = run_container_patch(module.client(), module.params, module.check_mode)
    except K8sError as error:
        module.fail_from_exception(error)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
