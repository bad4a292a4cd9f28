# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One planned mitigation, in the controller.

Documented in plugins/modules/remediation_apply.py.
"""

from __future__ import annotations

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError
from ansible_collections.sre.runbooks.plugins.plugin_utils import _engine as engine
from ansible_collections.sre.runbooks.plugins.plugin_utils._action import RemediationAction


class ActionModule(RemediationAction):
    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        args = self._task.args
        state, decision = args.get("state") or {}, args.get("decision") or {}
        if not state or not decision:
            return dict(
                failed=True, msg="remediation_apply needs the assessed state and a decision"
            )
        settings = self.settings(task_vars or {})
        conn = self.connections(settings)
        result = dict(changed=False, silence_id="")
        try:
            # The first mitigation silences the alert for the run's duration.
            if args.get("first") and settings["silence"] and not self.check_mode:
                result["silence_id"] = engine.silence(conn, state, settings, self.check_mode)
            record = engine.apply(conn, decision, self.check_mode)
        except (K8sError, APIError, engine.EngineError, ValueError) as error:
            result.update(failed=True, msg="%s: %s" % (decision.get("action"), error))
            return result
        result.update(
            record=record,
            changed=record["changed"],
            msg="%s -> %s" % (record["before"], record["after"]),
        )
        return result
