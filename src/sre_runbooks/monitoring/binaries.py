"""Locate the Prometheus and Alertmanager binaries (Debian names Alertmanager differently)."""

import shutil

# Upstream tarballs ship `alertmanager`; Debian's package installs `prometheus-alertmanager`.
CANDIDATES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "promtool": ("promtool",),
    "alertmanager": ("alertmanager", "prometheus-alertmanager"),
    "amtool": ("amtool",),
}


class MissingBinaryError(RuntimeError):
    """A server binary is not installed."""


def find_binary(name: str) -> str:
    """Return the path of binary ``name``, or raise naming what was looked for."""
    candidates = CANDIDATES.get(name, (name,))
    for candidate in candidates:
        path = shutil.which(candidate)
        if path:
            return path
    raise MissingBinaryError(
        f"{name} not found: looked for {', '.join(candidates)} on PATH. Install the Debian "
        "packages prometheus and prometheus-alertmanager (`make deps` does it as root)."
    )
