# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The catalog entry of the alert a run remediates (severity, escalation, runbook URL)."""

from __future__ import annotations

import os

from ansible_collections.sre.runbooks.plugins.plugin_utils import alert_catalog

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_CACHE = {}


def catalog_entry(alert, system):
    """The entry as a dict, ``{}`` for an alert the catalog does not know."""
    if "catalog" not in _CACHE:
        _CACHE["catalog"] = alert_catalog.load(COLLECTION_ROOT)
    return dict(_CACHE["catalog"].entry(alert, system) or {})
