"""The kinds the simulated API server serves, read from the recorded discovery documents.

`data/discovery.json` holds the real server's group-version resource lists (recorded from a
v1.36 server), trimmed to the served kinds and subresources by `data/regenerate.py`. Everything
else (the /api, /apis and aggregated discovery answers, URL routing) is derived from it, so adding
a kind or a subresource later (pods/log, metrics.k8s.io) is a matter of adding its entry there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

# Kinds whose objects carry metadata.generation, bumped by the server on each spec change.
GENERATION_KINDS = frozenset(
    {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Pod", "NetworkPolicy"}
)


@dataclass(frozen=True)
class Resource:
    """One served resource (a plural name in one group-version) and its subresources."""

    group: str
    version: str
    plural: str
    kind: str
    namespaced: bool
    singular: str
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ()
    # subresource name -> (group, version, kind, verbs) of what it answers with
    subresources: dict[str, tuple[str, str, str, tuple[str, ...]]] = field(default_factory=dict)

    @property
    def api_version(self) -> str:
        """The apiVersion objects of this resource carry, e.g. `apps/v1` or `v1`."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """How errors name the resource: `deployments.apps`, or `pods` for the core group."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def storage_key(self) -> tuple[str, str]:
        """Where objects of this resource live in the store.

        events.k8s.io/v1 events are another view of core/v1 events, as on a real server.
        """
        if self.group == "events.k8s.io" and self.plural == "events":
            return ("", "events")
        return (self.group, self.plural)


@dataclass(frozen=True)
class Discovery:
    """The recorded discovery data: the version document and the resource lists."""

    version: dict
    group_versions: list[dict]
    resources: dict[tuple[str, str, str], Resource]

    def find(self, group: str, version: str, plural: str) -> Resource | None:
        """The resource served at /api[s]/group/version/.../plural, if any."""
        return self.resources.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> Resource | None:
        """The resource for an apiVersion and kind, as named in ownerReferences."""
        group, _, version = api_version.rpartition("/")
        for res in self.resources.values():
            if res.group == group and res.version == version and res.kind == kind:
                return res
        return None


@cache
def discovery() -> Discovery:
    """Load the packaged discovery data once per process."""
    raw = json.loads(
        resources.files(__package__).joinpath("data/discovery.json").read_text("utf-8")
    )
    found: dict[tuple[str, str, str], Resource] = {}
    subs: dict[tuple[str, str, str], dict] = {}
    for gv in raw["groupVersions"]:
        group, version = gv["group"], gv["version"]
        for entry in gv["resources"]:
            name = entry["name"]
            if "/" in name:
                parent, sub = name.split("/", 1)
                subs.setdefault((group, version, parent), {})[sub] = (
                    entry.get("group", ""),
                    entry.get("version", ""),
                    entry["kind"],
                    tuple(entry["verbs"]),
                )
                continue
            found[(group, version, name)] = Resource(
                group=group,
                version=version,
                plural=name,
                kind=entry["kind"],
                namespaced=entry["namespaced"],
                singular=entry.get("singularName", ""),
                short_names=tuple(entry.get("shortNames", ())),
                categories=tuple(entry.get("categories", ())),
                verbs=tuple(entry["verbs"]),
            )
    for key, sub in subs.items():
        found[key].subresources.update(sub)
    return Discovery(raw["version"], raw["groupVersions"], found)
