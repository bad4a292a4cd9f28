# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Kubernetes connection options: kubernetes.core's names and environment variables, so one
    # module_defaults block configures both collections.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Path of a kubeconfig file, or the kubeconfig itself as a dictionary.
      - When neither this nor O(context) nor a complete set of O(host) and credentials is given,
        the module uses the pod's service account when it runs inside a cluster, and else the
        default kubeconfig (E(KUBECONFIG) or C(~/.kube/config)).
      - If not set, the environment variable E(K8S_AUTH_KUBECONFIG) is used.
    type: raw
  context:
    description:
      - Name of the kubeconfig context to use instead of its current context.
      - If not set, the environment variable E(K8S_AUTH_CONTEXT) is used.
    type: str
  host:
    description:
      - URL of the API server, for example V(https://10.0.0.1:6443). Overrides the kubeconfig's.
      - If not set, the environment variable E(K8S_AUTH_HOST) is used.
    type: str
  api_key:
    description:
      - Bearer token for the API server. Never logged.
      - If not set, the environment variable E(K8S_AUTH_API_KEY) is used.
    type: str
  username:
    description:
      - User name for HTTP basic authentication (only for API servers that allow it).
      - If not set, the environment variable E(K8S_AUTH_USERNAME) is used.
    type: str
  password:
    description:
      - Password for HTTP basic authentication. Never logged.
      - If not set, the environment variable E(K8S_AUTH_PASSWORD) is used.
    type: str
  validate_certs:
    description:
      - Whether to check the API server's TLS certificate.
      - If not set, the environment variable E(K8S_AUTH_VALIDATE_CERTS) or E(K8S_AUTH_VERIFY_SSL)
        is used, and else the kubeconfig's setting.
    type: bool
    aliases: [verify_ssl]
  ca_cert:
    description:
      - Path of the CA certificate (the whole chain) that signed the API server's certificate.
      - If not set, the environment variable E(K8S_AUTH_CA_CERT) or E(K8S_AUTH_SSL_CA_CERT) is
        used.
    type: path
    aliases: [ssl_ca_cert]
  client_cert:
    description:
      - Path of a client certificate for authenticating to the API server.
      - If not set, the environment variable E(K8S_AUTH_CLIENT_CERT) or E(K8S_AUTH_CERT_FILE) is
        used.
    type: path
    aliases: [cert_file]
  client_key:
    description:
      - Path of the key of O(client_cert).
      - If not set, the environment variable E(K8S_AUTH_CLIENT_KEY) or E(K8S_AUTH_KEY_FILE) is
        used.
    type: path
    aliases: [key_file]
  proxy:
    description:
      - URL of an HTTP proxy for the connection to the API server. The usual E(HTTP_PROXY)
        variables are not read.
      - If not set, the environment variable E(K8S_AUTH_PROXY) is used.
    type: str
  impersonate_user:
    description:
      - User name to act as (C(Impersonate-User)).
      - If not set, the environment variable E(K8S_AUTH_IMPERSONATE_USER) is used.
    type: str
  impersonate_groups:
    description:
      - Groups to act as (one C(Impersonate-Group) header each).
      - If not set, the environment variable E(K8S_AUTH_IMPERSONATE_GROUPS) is used, a comma
        separated list such as V(sre,oncall).
    type: list
    elements: str
requirements:
  - kubernetes (the official Python client)
notes:
  - The option names and environment variables are those of kubernetes.core, so one
    C(module_defaults) block with C(group/sre.runbooks.k8s) and C(group/kubernetes.core.k8s)
    configures the modules of both collections.
  - The modules build REST paths themselves and send JSON; they make no discovery requests.
"""
