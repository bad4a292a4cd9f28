# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Assess and decide, in the controller (documented in plugins/modules/remediation_assess.py)."""

from __future__ import annotations

from ansible_collections.sre.runbooks.plugins.module_utils._http import APIError
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8sError
from ansible_collections.sre.runbooks.plugins.plugin_utils import _engine as engine
from ansible_collections.sre.runbooks.plugins.plugin_utils import _rules as rules
from ansible_collections.sre.runbooks.plugins.plugin_utils._action import RemediationAction
from ansible_collections.sre.runbooks.plugins.plugin_utils._catalog_entry import catalog_entry
from ansible_collections.sre.runbooks.plugins.plugin_utils._decide import RuleError


class ActionModule(RemediationAction):
    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        task_vars = task_vars or {}
        settings = self.settings(task_vars or {})
        role = settings["role"]
        if not role or role == "remediation":
            return dict(
                failed=True,
                msg="sre.runbooks.remediation is the shared remediation contract: run an "
                "alert role (for example sre.runbooks.high_error_rate) or "
                "playbooks/remediate.yml instead.",
            )
        raw_rules = self.raw_data(task_vars, "remediation_rules")
        raw_steps = self.raw_data(task_vars, "remediation_investigation")
        probe_names = [p.get("name") for p in settings["probes"]]
        try:
            rules.check_rules(raw_rules, settings["queries"], probe_names)
        except RuleError as error:
            return dict(failed=True, msg="sre.runbooks.%s: %s" % (role, error))
        settings["entry"] = catalog_entry(settings["alert"], settings["system"])

        def evaluate(findings):
            templar = self._templar.copy_with_new_env(
                available_variables=dict(task_vars, findings=findings)
            )
            matched = rules.evaluate(
                templar, raw_rules, settings["queries"], probe_names, findings["target"]["kind"]
            )
            return matched, rules.investigate(templar, raw_steps)

        conn = self.connections(settings)
        state = engine.new_state(settings, settings["entry"])
        try:
            engine.assess(conn, settings, self.check_mode, evaluate, state)
        except (K8sError, APIError, RuleError, engine.EngineError, ValueError) as error:
            engine.stop(state, "failed", "assess: %s" % error)
            return dict(failed=True, msg=state["message"], state=state, planned=[], verify=False)
        go_on = state["outcome"] is None
        return dict(
            changed=False,
            state=state,
            outcome=state["outcome"],
            planned=state["planned"] if go_on else [],
            verify=go_on and settings["verify"] and not self.check_mode,
            msg=state["message"]
            or "planned: %s" % ", ".join(d["action"] for d in state["planned"]),
        )
