# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the remediation_* action plugins share: the run's settings and connections.

The settings are the remediation role's variables (roles/remediation/defaults/main.yml),
templated here in the controller; the connections are kubernetes.core's options with their
K8S_AUTH_* variables, and the Prometheus and Alertmanager URLs with theirs.
"""

from __future__ import annotations

import os
import re

from ansible.errors import AnsibleActionFail, AnsibleValueOmittedError
from ansible.plugins.action import ActionBase
from ansible_collections.sre.runbooks.plugins.module_utils.k8s import K8S_OPTIONS
from ansible_collections.sre.runbooks.plugins.plugin_utils._engine import Connections

# setting -> the remediation role's variable
SETTINGS = {
    "role": "remediation_role",
    "alert": "remediation_alert",
    "system": "remediation_system",
    "target": "remediation_target",
    "alert_labels": "remediation_alert_labels",
    "queries": "remediation_queries",
    "probes": "remediation_probes",
    "diagnose_logs": "remediation_diagnose_logs",
    "label_selector": "remediation_label_selector",
    "firing_query": "remediation_firing_query",
    "active_since_query": "remediation_active_since_query",
    "protected_namespaces": "remediation_protected_namespaces",
    "protected_exemptions": "remediation_protected_exemptions",
    "cooldown_seconds": "remediation_cooldown_seconds",
    "budget": "remediation_budget",
    "budget_seconds": "remediation_budget_seconds",
    "lease_seconds": "remediation_lease_seconds",
    "approve": "remediation_approve",
    "max_mitigations": "remediation_max_mitigations",
    "verify": "remediation_verify",
    "verify_timeout": "remediation_verify_timeout",
    "verify_interval": "remediation_verify_interval",
    "silence": "remediation_silence",
    "silence_duration": "remediation_silence_duration",
    "report_dir": "remediation_report_dir",
    "audit_log": "remediation_audit_log",
    "chart": "remediation_chart",
    "chart_query": "remediation_chart_query",
    "chart_threshold": "remediation_chart_threshold",
    "chart_title": "remediation_chart_title",
    "chart_window": "remediation_chart_window",
    "notify_url": "remediation_notify_url",
    "engineer": "remediation_engineer",
    "prometheus_url": "remediation_prometheus_url",
    "alertmanager_url": "remediation_alertmanager_url",
    "kubeconfig": "remediation_kubeconfig",
    "kube_context": "remediation_kube_context",
    "k8s_auth": "remediation_k8s_auth",
    "alert_label_values": "alert_labels",
    "run_id": "sre_runbooks_run_id",
    "alert_starts_at": "alert_starts_at",
    "host": "inventory_hostname",
}
BOOLEANS = ("approve", "verify", "silence", "chart")
K8S_ENV = {
    "kubeconfig": ["K8S_AUTH_KUBECONFIG"],
    "context": ["K8S_AUTH_CONTEXT"],
    "host": ["K8S_AUTH_HOST"],
    "api_key": ["K8S_AUTH_API_KEY"],
    "username": ["K8S_AUTH_USERNAME"],
    "password": ["K8S_AUTH_PASSWORD"],
    "validate_certs": ["K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL"],
    "ca_cert": ["K8S_AUTH_CA_CERT", "K8S_AUTH_SSL_CA_CERT"],
    "client_cert": ["K8S_AUTH_CLIENT_CERT", "K8S_AUTH_CERT_FILE"],
    "client_key": ["K8S_AUTH_CLIENT_KEY", "K8S_AUTH_KEY_FILE"],
    "proxy": ["K8S_AUTH_PROXY"],
    "impersonate_user": ["K8S_AUTH_IMPERSONATE_USER"],
    "impersonate_groups": ["K8S_AUTH_IMPERSONATE_GROUPS"],
}
OMIT_PREFIX = "__omit_place_holder__"
_TEMPLATE_NAME = re.compile(r"^\s*\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}\s*$")


def _bool(value):
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(value)


def _plain(value):
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (int, float, str):
        if isinstance(value, kind):
            return kind(value)
    return None  # Ansible's omit and other sentinels: not set


class RemediationAction(ActionBase):
    """Base of the remediation phases: no connection, no module, no file transfer."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def variable(self, task_vars, name, default=None):
        """A variable templated; unset (or omitted): ``default``; one that fails: an error."""
        if name not in task_vars:
            return default
        try:
            value = _plain(self._templar.resolve_variable_expression(name))
        except AnsibleValueOmittedError:  # `default(omit)`: not set
            return default
        except Exception as error:  # a template of the role's data that does not render
            raise AnsibleActionFail("%s: %s" % (name, error)) from None
        if value is None or (isinstance(value, str) and value.startswith(OMIT_PREFIX)):
            return default
        return value

    def settings(self, task_vars):
        settings = {key: self.variable(task_vars, name) for key, name in SETTINGS.items()}
        for key in BOOLEANS:
            settings[key] = _bool(settings[key])
        for key in ("queries", "alert_labels", "alert_label_values", "k8s_auth"):
            settings[key] = settings[key] or {}
        for key in ("probes", "protected_namespaces", "protected_exemptions"):
            settings[key] = settings[key] or []
        return settings

    def raw_data(self, task_vars, name):
        """A role variable as written (its templates not yet rendered): the rules and the
        investigation are templated only once the findings exist."""
        value = task_vars.get(name)
        seen = set()
        while isinstance(value, str) and _TEMPLATE_NAME.match(value):
            ref = _TEMPLATE_NAME.match(value).group(1)
            if ref in seen:
                break
            seen.add(ref)
            value = task_vars.get(ref)
        return value if value is not None else []

    def connections(self, settings):
        k8s = dict.fromkeys(K8S_OPTIONS)
        for name, variables in K8S_ENV.items():
            for variable in variables:
                if os.environ.get(variable):
                    k8s[name] = os.environ[variable]
                    break
        if isinstance(k8s.get("impersonate_groups"), str):
            k8s["impersonate_groups"] = [g for g in k8s["impersonate_groups"].split(",") if g]
        if isinstance(k8s.get("validate_certs"), str):
            k8s["validate_certs"] = _bool(k8s["validate_certs"])
        auth = settings.get("k8s_auth") or {}
        k8s.update({k: v for k, v in auth.items() if k in K8S_OPTIONS and v is not None})
        if settings.get("kubeconfig"):
            k8s["kubeconfig"] = settings["kubeconfig"]
        if settings.get("kube_context"):
            k8s["context"] = settings["kube_context"]
        prometheus = {"url": settings.get("prometheus_url") or os.environ.get("PROMETHEUS_URL")}
        alertmanager = {
            "url": settings.get("alertmanager_url") or os.environ.get("ALERTMANAGER_URL")
        }
        for options, prefix in ((prometheus, "PROMETHEUS"), (alertmanager, "ALERTMANAGER")):
            for name in ("token", "username", "password"):
                if os.environ.get("%s_%s" % (prefix, name.upper())):
                    options[name] = os.environ["%s_%s" % (prefix, name.upper())]
        return Connections(k8s, prometheus, alertmanager)

    @property
    def check_mode(self):
        return bool(self._task.check_mode)
