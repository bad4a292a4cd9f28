"""The launcher's version: galaxy.yml's in a checkout, else the installed distribution's.

The version lives in galaxy.yml only; a built launcher carries it in its metadata. Where the
collection is, is ``sre_runbooks.collection``'s business.
"""

import re
from pathlib import Path

# src/sre_runbooks/_version.py in a checkout: the repository, with galaxy.yml.
_GALAXY = Path(__file__).resolve().parents[2] / "galaxy.yml"


def _read_version() -> str:
    if _GALAXY.is_file():
        match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", _GALAXY.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    from importlib import metadata  # noqa: PLC0415  (only an installed launcher needs it)

    return metadata.version("sre-runbooks")


VERSION = _read_version()
