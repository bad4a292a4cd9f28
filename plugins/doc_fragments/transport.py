# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Transport options shared by every Prometheus and Alertmanager module and lookup.
    DOCUMENTATION = r"""
options:
  headers:
    description:
      - Extra HTTP headers sent with every request, for example a tenant header of a
        multi-tenant gateway.
    type: dict
    default: {}
  validate_certs:
    description:
      - Whether to verify the server's TLS certificate.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the certificate authorities that signed the server's certificate.
    type: path
  client_cert:
    description:
      - PEM client certificate for mutual TLS.
    type: path
  client_key:
    description:
      - PEM private key of O(client_cert), if the certificate file does not contain it.
    type: path
  timeout:
    description:
      - Seconds to wait for each HTTP request.
    type: float
    default: 10
  retries:
    description:
      - How many times a read is retried after a connection error, HTTP 429 or 5xx, with
        exponential backoff. Writes (creating or expiring silences) are never retried.
    type: int
    default: 2
  retry_backoff:
    description:
      - Seconds before the first retry; each further retry waits twice as long.
    type: float
    default: 0.5
"""
