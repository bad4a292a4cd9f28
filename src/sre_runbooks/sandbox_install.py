"""The sandbox is a part of its own (``sre-runbooks-sandbox``), which the launcher does not need
to run remediations. The launcher imports it only for ``runbook sandbox`` and for a run without
``--inventory`` (the running sandbox is the default target), and says how to install it when it
is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

PACKAGE = "sre_runbooks_sandbox"
DISTRIBUTION = "sre-runbooks-sandbox"
INSTALL_HINT = (
    f"install it with `pip install {DISTRIBUTION}` (from a checkout: `pip install ./sandbox`, or "
    "the wheel `make build` writes into build/)"
)


class SandboxNotInstalledError(Exception):
    """The sandbox package is not installed beside the launcher."""


def control() -> ModuleType:
    """The sandbox's control module (``up``, ``down``, ``status``, ...)."""
    try:
        return importlib.import_module(f"{PACKAGE}.control")
    except ModuleNotFoundError as error:
        if error.name not in {PACKAGE, f"{PACKAGE}.control"}:
            raise  # the sandbox is there, something it needs is not: show that
        raise SandboxNotInstalledError(
            f"the sandbox is not installed (it is a separate package, {DISTRIBUTION}): "
            f"{INSTALL_HINT}"
        ) from None
