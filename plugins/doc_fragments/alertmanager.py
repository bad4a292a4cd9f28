# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Alertmanager endpoint and credentials, for modules.
    DOCUMENTATION = r"""
options:
  url:
    description:
      - Base URL of the Alertmanager server, for example V(http://alertmanager.monitoring:9093).
      - If not set, the environment variable E(ALERTMANAGER_URL) is used.
    type: str
    required: true
  token:
    description:
      - Bearer token sent in the C(Authorization) header. Never logged.
      - If not set, the environment variable E(ALERTMANAGER_TOKEN) is used.
    type: str
  username:
    description:
      - User name for HTTP basic authentication.
      - If not set, the environment variable E(ALERTMANAGER_USERNAME) is used.
    type: str
  password:
    description:
      - Password for HTTP basic authentication. Never logged.
      - If not set, the environment variable E(ALERTMANAGER_PASSWORD) is used.
    type: str
"""

    # The same options for lookup plugins, which read the environment through ansible-core.
    PLUGINS = r"""
options:
  url:
    description:
      - Base URL of the Alertmanager server, for example V(http://alertmanager.monitoring:9093).
    type: str
    required: true
    env:
      - name: ALERTMANAGER_URL
  token:
    description:
      - Bearer token sent in the C(Authorization) header. Never logged.
    type: str
    env:
      - name: ALERTMANAGER_TOKEN
  username:
    description:
      - User name for HTTP basic authentication.
    type: str
    env:
      - name: ALERTMANAGER_USERNAME
  password:
    description:
      - Password for HTTP basic authentication. Never logged.
    type: str
    env:
      - name: ALERTMANAGER_PASSWORD
"""
