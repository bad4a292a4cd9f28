#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: k8s_service_request
short_description: HTTP request to a Service or Pod port through the API server proxy
version_added: 0.1.0
author:
  - sre.runbooks maintainers (@sre-runbooks)
description:
  - Sends one HTTP request to a port of a Service or Pod through the API server's C(proxy)
    subresource, so a runbook reaches health, metrics, cache, Triton or pprof endpoints inside
    the cluster without port-forwarding or a pod with C(curl).
  - The answer's text is in RV(content), and decoded in RV(json) when it is JSON.
  - "Changes: V(GET), V(HEAD) and V(OPTIONS) never report a change and run in check mode. Other
    methods report a change when the answer's status is in O(status_code), unless O(changes) is
    V(false) (for POST endpoints that only read, such as a query API); in check mode they are
    sent only with O(changes=false), and otherwise report that they would change."
  - No collection offers this; kubernetes.core has no proxy request module.
options:
  kind:
    description: Whether O(name) is a Service or a Pod.
    type: str
    choices: [Service, Pod]
    default: Service
  name:
    description: Name of the Service or Pod.
    type: str
    required: true
  namespace:
    description: Its namespace.
    type: str
    required: true
  port:
    description: Port name or number; the first port when not given.
    type: str
  scheme:
    description: Protocol between the API server and the port.
    type: str
    choices: [http, https]
    default: http
  method:
    description: HTTP method.
    type: str
    default: GET
  path:
    description: Path (with an optional query string) on the target, for example V(/health).
    type: str
    default: /
  body:
    description: Request body; a dict or list is sent as JSON, anything else as text.
    type: raw
  headers:
    description: Additional request headers.
    type: dict
    default: {}
  status_code:
    description: Statuses that count as success; any other fails the task.
    type: list
    elements: int
    default: [200]
  changes:
    description:
      - Whether a successful request with a method other than V(GET), V(HEAD) or V(OPTIONS)
        counts as a change. Defaults to V(true) for those methods.
    type: bool
  timeout:
    description: Seconds to wait for the answer.
    type: float
    default: 30
extends_documentation_fragment:
  - sre.runbooks.k8s_auth
  - sre.runbooks.attributes.K8S_GROUP
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: partial
    details: Read methods, and others with O(changes=false), are sent in check mode.
  diff_mode:
    description: Will return details on what has changed when in diff mode.
    support: none
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: partial
    details: Depends on the endpoint; read methods never change anything.
"""

EXAMPLES = r"""
- name: Health of nimify-api
  sre.runbooks.k8s_service_request:
    name: nimify-api
    namespace: nimify-system
    port: http
    path: /health
  register: health

- name: Triton model readiness (404 means not ready)
  sre.runbooks.k8s_service_request:
    name: triton-server
    namespace: triton-system
    port: "8000"
    path: /v2/models/resnet/ready
    status_code: [200, 404]

- name: Load a model with a larger batch size
  sre.runbooks.k8s_service_request:
    name: triton-server
    namespace: triton-system
    port: "8000"
    method: POST
    path: /v2/repository/models/resnet/load
    body: {parameters: {max_batch_size: 32}}

- name: A POST that only reads does not count as a change
  sre.runbooks.k8s_service_request:
    name: search
    namespace: apps
    method: POST
    path: /query
    body: {q: "status:error"}
    changes: false
"""

RETURN = r"""
status:
  description: HTTP status of the answer.
  returned: when the request was sent
  type: int
  sample: 200
content:
  description: Body of the answer as text.
  returned: when the request was sent
  type: str
json:
  description: Body decoded as JSON, or V(null) when it is not JSON.
  returned: when the request was sent
  type: raw
  sample: {status: ok}
content_type:
  description: Content-Type of the answer.
  returned: when the request was sent
  type: str
url:
  description: The API server path used.
  returned: always
  type: str
  sample: /api/v1/namespaces/nimify-system/services/nimify-api:http/proxy/health
method:
  description: The method sent.
  returned: always
  type: str
"""

from ansible_collections.sre.runbooks.plugins.module_utils._k8s_proxy import run_request
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError, K8sModule

ARGUMENT_SPEC = dict(
    kind=dict(type="str", default="Service", choices=["Service", "Pod"]),
    name=dict(type="str", required=True),
    namespace=dict(type="str", required=True),
    port=dict(type="str"),
    scheme=dict(type="str", default="http", choices=["http", "https"]),
    method=dict(type="str", default="GET"),
    path=dict(type="str", default="/"),
    body=dict(type="raw"),
    headers=dict(type="dict", default={}),
    status_code=dict(type="list", elements="int", default=[200]),
    changes=dict(type="bool"),
    timeout=dict(type="float", default=30),
)


def main():
    module = K8sModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    try:
        result = run_request(module.client(), module.params, module.check_mode)
    except K8sError as error:
        module.fail_from_exception(error, **getattr(error, "result", {}))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
