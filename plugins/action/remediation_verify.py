# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Verification after the mitigations (documented in plugins/modules/remediation_verify.py)."""

from __future__ import annotations

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError
from ansible_collections.sre.runbooks.plugins.plugin_utils import _engine as engine
from ansible_collections.sre.runbooks.plugins.plugin_utils._action import RemediationAction


class ActionModule(RemediationAction):
    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        args = self._task.args
        state = args.get("state") or {}
        actions = [a for a in args.get("actions") or [] if a]
        settings = self.settings(task_vars or {})
        conn = self.connections(settings)
        try:
            verification, outcome, message = engine.verify(conn, state, actions, settings)
        except (K8sError, APIError, engine.EngineError, ValueError) as error:
            return dict(failed=True, msg="verify: %s" % error)
        # A run that did not cure the alert fails in the finish, once its report is written.
        return dict(changed=False, verification=verification, outcome=outcome, msg=message)
