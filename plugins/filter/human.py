# -*- coding: utf-8 -*-
# Copyright: sre.runbooks contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters that write findings for people (``50%``, ``243 ms``, ``922 MiB``, ``250m``) and read
Kubernetes quantities as numbers, for the investigation answers and rules of alert roles.

The documentation of each filter is in the YAML file of its name beside this one.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.sre.runbooks.plugins.module_utils import _report


def percent(ratio, digits=3):
    return _report.percent(ratio, digits)


def duration(value):
    return _report.seconds(value)


def bytes_(value):
    return _report.byte_size(value)


def cpu(value):
    return _report.cpu(value)


def quantity(value):
    try:
        return _report.quantity(value)
    except ValueError as error:
        raise AnsibleFilterError("quantity: %s" % error) from None


class FilterModule(object):
    """sre.runbooks.percent, duration, bytes, cpu and quantity."""

    def filters(self):
        return {
            "percent": percent,
            "duration": duration,
            "bytes": bytes_,
            "cpu": cpu,
            "quantity": quantity,
        }
