# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""PromQL filters: label values from alerts become escaped PromQL strings, never query text.

The documentation of each filter is in the YAML file of its name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.sre.runbooks.plugins.module_utils.prometheus import (
    PrometheusInputError,
    promql_matchers,
    promql_selector,
    promql_string,
)


def _filter(function):
    def run(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except PrometheusInputError as error:
            raise AnsibleFilterError("%s: %s" % (function.__name__, error)) from None

    run.__name__ = function.__name__
    run.__doc__ = function.__doc__
    return run


class FilterModule(object):
    """sre.runbooks.promql_string, sre.runbooks.promql_matchers, sre.runbooks.promql_selector."""

    def filters(self):
        return {
            function.__name__: _filter(function)
            for function in (promql_string, promql_matchers, promql_selector)
        }
