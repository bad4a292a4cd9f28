"""The version lives in galaxy.yml only; the Python package reads it from there."""

import re
from importlib import metadata
from pathlib import Path

COLLECTION_ROOT = Path(__file__).resolve().parents[2]


def _read_version() -> str:
    galaxy = COLLECTION_ROOT / "galaxy.yml"
    if galaxy.is_file():
        match = re.search(r"^version:\s*['\"]?([^'\"\s]+)", galaxy.read_text(), re.MULTILINE)
        if match:
            return match.group(1)
    return metadata.version("sre-runbooks")


VERSION = _read_version()
