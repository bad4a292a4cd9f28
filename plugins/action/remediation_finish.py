# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Record, report and notify, whatever happened.

Documented in plugins/modules/remediation_finish.py.
"""

from __future__ import annotations

from ansible_collections.sre.runbooks.plugins.plugin_utils import _decide as decide
from ansible_collections.sre.runbooks.plugins.plugin_utils import _engine as engine
from ansible_collections.sre.runbooks.plugins.plugin_utils import _finish as finish
from ansible_collections.sre.runbooks.plugins.plugin_utils._action import RemediationAction
from ansible_collections.sre.runbooks.plugins.plugin_utils._catalog_entry import catalog_entry


class ActionModule(RemediationAction):
    def run(self, tmp=None, task_vars=None):
        super().run(tmp, task_vars)
        task_vars = task_vars or {}
        settings = self.settings(task_vars or {})
        # What the phases registered, read as they are: a skipped phase is simply absent.
        assessed = task_vars.get("_remediation_assessed") or {}
        applied = (task_vars.get("_remediation_applied") or {}).get("results") or []
        verified = task_vars.get("_remediation_verified") or {}
        if verified.get("skipped"):
            verified = {}
        state = assessed.get("state")
        if not state:
            settings["entry"] = catalog_entry(settings["alert"], settings["system"])
            state = engine.new_state(settings, settings["entry"])
        actions, silence_id, failure = finish.collect(assessed, applied, verified)
        outcome, message, verification = finish.outcome(
            state,
            actions,
            verified,
            failure,
            check_mode=self.check_mode,
            settings=settings,
        )
        state.update(outcome=outcome, message=message)
        conn = self.connections(settings)
        errors = []
        audit = None
        if state.get("acquired"):
            audit = engine.safely(engine.release, errors, conn, state, actions, outcome, settings)
        if silence_id:
            engine.safely(engine.lift_silence, errors, conn, silence_id)
        report = finish.report(
            state, actions, verification, silence_id, audit=audit, check_mode=self.check_mode
        )
        report["errors"] = errors
        finish.write(conn, report, state, settings, errors)
        if settings["notify_url"]:
            report["notification"] = finish.notify(report, settings)
            finish.write_json(report)
        result = dict(
            changed=False,
            outcome=outcome,
            message=message,
            report=report["artifacts"],
            msg="%s on %s: %s. %s Report: %s"
            % (
                settings["alert"],
                settings["host"],
                outcome,
                message,
                report["artifacts"]["report_md"],
            ),
        )
        if decide.fails(outcome):
            result.update(failed=True, msg="%s: %s: %s" % (settings["alert"], outcome, message))
        return result
