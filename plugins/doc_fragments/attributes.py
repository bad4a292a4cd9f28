# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    # Modules that change something: full check mode and diff support.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode),
        when in diff mode.
    support: full
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: full
"""

    # Modules that only read: they never change anything and never report changed.
    INFO_MODULE = r"""
attributes:
  check_mode:
    description:
      - Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads; it runs unchanged in check mode.
  diff_mode:
    description:
      - Will return details on what has changed (or possibly needs changing in check_mode),
        when in diff mode.
    support: N/A
    details: This module never changes anything.
  idempotent:
    description: Running the module twice with the same options changes nothing the second time.
    support: full
"""

    PROMETHEUS_GROUP = r"""
attributes:
  action_group:
    description:
      - Use C(group/sre.runbooks.prometheus) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sre.runbooks.prometheus
"""

    ALERTMANAGER_GROUP = r"""
attributes:
  action_group:
    description:
      - Use C(group/sre.runbooks.alertmanager) in C(module_defaults) to set defaults for this
        module.
    support: full
    membership:
      - sre.runbooks.alertmanager
"""

    K8S_GROUP = r"""
attributes:
  action_group:
    description:
      - Use C(group/sre.runbooks.k8s) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - sre.runbooks.k8s
"""
