"""Where the sre.runbooks collection is, and how Ansible finds the same copy.

The launcher reads the collection's playbooks, roles, alerting rules, catalog and sandbox
inventory, and runs its playbooks. It looks, in this order:

1. ``--collection-path PATH`` (``use()``), else ``$SRE_RUNBOOKS_COLLECTION_PATH``;
2. the checkout the launcher runs from (an editable install in the repository);
3. where Ansible looks: its collections paths as ansible-core's configuration gives them
   (``ANSIBLE_COLLECTIONS_PATH``, ``collections_path`` of the ansible.cfg in effect, by default
   ``~/.ansible/collections`` and ``/usr/share/ansible/collections``), then the
   ``ansible_collections`` directories on the Python path (unless
   ``COLLECTIONS_SCAN_SYS_PATH`` is off).

A PATH (option or variable) is a collections directory (which holds
``ansible_collections/sre/runbooks``), an ``ansible_collections`` directory, or the collection's
own directory. Nothing is located before a command needs it: ``runbook --version``,
``runbook sandbox down`` and friends work without the collection.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "sre"
NAME = "runbooks"
ENV = "SRE_RUNBOOKS_COLLECTION_PATH"
OPTION = "--collection-path"
_LAYOUT = ("ansible_collections", NAMESPACE, NAME)
# The repository this module's file lies in, when it runs from a checkout (src/sre_runbooks/).
_CHECKOUT = Path(__file__).resolve().parents[2]


class CollectionNotFoundError(Exception):
    """The collection is nowhere the launcher looks; the message lists where it looked."""


@dataclass(frozen=True)
class Collection:
    """One copy of the collection."""

    root: Path
    """The collection's directory: ``playbooks/``, ``roles/``, ``prometheus/``, ..."""
    found_by: str
    """How it was found: the option, the variable, the checkout or Ansible's paths."""
    version: str

    @property
    def checkout(self) -> bool:
        """A source tree (``galaxy.yml``), not an installed collection (``MANIFEST.json``)."""
        return not (self.root / "MANIFEST.json").is_file()

    def path(self, *parts: str) -> Path:
        return self.root.joinpath(*parts)

    def collections_dir(self) -> Path | None:
        """The directory Ansible needs in its collections path to load this copy as
        sre.runbooks; None when there is none (a checkout without ``.collections``)."""
        if self.root.parts[-3:] == _LAYOUT:
            return self.root.parents[2]
        linked = self.root / ".collections"
        if _identity(linked.joinpath(*_LAYOUT)) and linked.joinpath(*_LAYOUT).resolve() == (
            self.root.resolve()
        ):
            return linked
        return None


def _identity(directory: Path) -> str | None:
    """The version of the sre.runbooks collection in ``directory``; None when it is not one."""
    manifest = directory / "MANIFEST.json"
    galaxy = directory / "galaxy.yml"
    try:
        if manifest.is_file():
            info: Any = json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]
        elif galaxy.is_file():
            info = yaml.safe_load(galaxy.read_text(encoding="utf-8"))
        else:
            return None
        if info.get("namespace") == NAMESPACE and info.get("name") == NAME:
            return str(info.get("version", "?"))
    except (OSError, ValueError, KeyError, AttributeError, TypeError, yaml.YAMLError):
        return None
    return None


def _in(path: Path) -> Path | None:
    """The collection under a given PATH: collections dir, ansible_collections, or itself."""
    for candidate in (path.joinpath(*_LAYOUT), path.joinpath(*_LAYOUT[1:]), path):
        if candidate.is_dir() and _identity(candidate):
            return candidate
    return None


def ansible_collections_paths() -> tuple[list[Path], str, bool]:
    """Ansible's collections paths, where that setting comes from, and whether Ansible also
    scans the Python path: ansible-core's own configuration (env, ansible.cfg, defaults)."""
    from ansible import constants  # noqa: PLC0415  (about 0.2 s; only when needed)

    # The value is the rendered one of ansible.constants (the raw one may hold a template of
    # ANSIBLE_HOME); the origin: an environment variable, a config file or the default.
    _, origin = constants.config.get_config_value_and_origin("COLLECTIONS_PATHS")
    scan = bool(constants.COLLECTIONS_SCAN_SYS_PATH)
    return [Path(p).expanduser() for p in constants.COLLECTIONS_PATHS], str(origin), scan


def ansible_config_file() -> Path | None:
    """The ansible.cfg ansible-core would read from here (None: none)."""
    from ansible import constants  # noqa: PLC0415

    return Path(constants.CONFIG_FILE).resolve() if constants.CONFIG_FILE else None


def _explicit(given: str, source: str) -> Collection:
    path = Path(given).expanduser().resolve()
    root = _in(path)
    if root is None:
        what = "does not exist" if not path.exists() else "holds no sre.runbooks collection"
        raise CollectionNotFoundError(
            f"{source} {path} {what}: expected a collections directory with "
            "ansible_collections/sre/runbooks in it, or the collection's own directory "
            "(with MANIFEST.json or galaxy.yml)"
        )
    return Collection(root, source, _identity(root) or "?")


def locate(option: str | None = None) -> Collection:
    """The collection the launcher uses (see the module's docstring for the order)."""
    if option:
        return _explicit(option, OPTION)
    if os.environ.get(ENV):
        return _explicit(os.environ[ENV], f"${ENV}")
    looked = [
        f"{OPTION}: not given",
        f"${ENV}: not set",
    ]
    if _identity(_CHECKOUT):
        return Collection(_CHECKOUT, "the checkout the launcher runs from", _identity(_CHECKOUT))
    looked.append(f"{_CHECKOUT}: the launcher does not run from a checkout of the collection")
    paths, origin, scan = ansible_collections_paths()
    for path in paths:
        root = _in(path)
        if root is not None:
            return Collection(root, f"Ansible's collections path ({origin})", _identity(root))
        looked.append(f"{path}: Ansible's collections path ({origin})")
    if scan:
        for entry in sys.path:
            root = Path(entry).joinpath(*_LAYOUT) if entry else None
            if root is not None and root.is_dir() and _identity(root):
                return Collection(root, "the Python path", _identity(root) or "?")
        looked.append("ansible_collections on the Python path (sys.path)")
    where = "\n".join(f"  {line}" for line in looked)
    raise CollectionNotFoundError(
        f"the sre.runbooks collection was not found. Looked in:\n{where}\n"
        "Install it (`ansible-galaxy collection install sre-runbooks-<version>.tar.gz`), or "
        f"say where it is with {OPTION} PATH or {ENV}=PATH."
    )


# One collection per command: the option, and the collection once located.
_chosen: dict[str, Any] = {"option": None, "collection": None}


def use(option: str | None) -> None:
    """Set ``--collection-path`` for this process; the collection is located on first use."""
    _chosen.update(option=option, collection=None)


def current() -> Collection:
    """The collection of this process, located once (``use()`` starts over)."""
    if _chosen["collection"] is None:
        _chosen["collection"] = locate(_chosen["option"])
    return _chosen["collection"]


def path(*parts: str) -> Path:
    """A path inside the current collection."""
    return current().path(*parts)


def ansible_env(scratch: Path | None = None) -> dict[str, str]:
    """The environment a playbook run needs to load this very copy as sre.runbooks.

    A checkout runs with its own ansible.cfg and ``.collections``. An installed copy runs with
    the ansible.cfg ansible-core finds from the launcher's working directory (ansible-runner
    starts Ansible elsewhere) and its collections directory first in Ansible's collections
    paths. When the copy is not laid out as ``ansible_collections/sre/runbooks`` (a checkout
    without ``.collections``, a directory given with the option), ``scratch`` gets a link that is.
    """
    collection = current()
    env: dict[str, str] = {}
    config = collection.path("ansible.cfg")
    found = collection.collections_dir()
    if found is None:
        found = (scratch or Path(tempfile.mkdtemp(prefix="sre-runbooks-"))) / "collections"
        link = found.joinpath(*_LAYOUT)
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(collection.root, target_is_directory=True)
    if collection.checkout and config.is_file():
        env["ANSIBLE_CONFIG"] = str(config)
        env["ANSIBLE_COLLECTIONS_PATH"] = str(found)
        return env
    if "ANSIBLE_CONFIG" not in os.environ:
        user_config = ansible_config_file()
        if user_config is not None:
            env["ANSIBLE_CONFIG"] = str(user_config)
    paths, _, _ = ansible_collections_paths()
    ordered = dict.fromkeys(str(p) for p in [found, *paths])
    env["ANSIBLE_COLLECTIONS_PATH"] = os.pathsep.join(ordered)
    return env


__all__ = [
    "ENV",
    "OPTION",
    "Collection",
    "CollectionNotFoundError",
    "ansible_env",
    "current",
    "locate",
    "path",
    "use",
]
