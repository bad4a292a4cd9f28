"""The ``runbook`` launcher and its tools for the sre.runbooks collection."""

from sre_runbooks._version import VERSION

__all__ = ["VERSION"]
__version__ = VERSION
