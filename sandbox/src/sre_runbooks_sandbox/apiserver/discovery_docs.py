"""Discovery answers (/api, /apis, group-version resource lists, aggregated v2) from the data.

Current kubectl and client-go ask /api and /apis for the aggregated format first
(`Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`) and fall back
to the per-group documents; the real server answers whichever the Accept header asks for.
"""

from __future__ import annotations

from .resources import Discovery, Resource

AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def wants_aggregated(accept: str) -> bool:
    """Whether the Accept header asks for aggregated discovery v2 before plain JSON."""
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if {"g=apidiscovery.k8s.io", "v=v2", "as=APIGroupDiscoveryList"} <= params:
            return True
        if part.split(";")[0].strip() in {"application/json", "*/*"} and not params:
            return False
    return False


def api_versions(server_address: str) -> dict:
    """GET /api."""
    return {
        "kind": "APIVersions",
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
        "versions": ["v1"],
    }


def _group_versions(disc: Discovery) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for gv in disc.group_versions:
        if gv["group"]:
            groups.setdefault(gv["group"], []).append(gv["version"])
    return groups


def api_group(group: str, versions: list[str]) -> dict:
    """One APIGroup, as in /apis and /apis/<group>."""
    entries = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "preferredVersion": entries[0], "versions": entries}


def api_group_list(disc: Discovery) -> dict:
    """GET /apis."""
    return {
        "apiVersion": "v1",
        "groups": [api_group(g, vs) for g, vs in _group_versions(disc).items()],
        "kind": "APIGroupList",
    }


def api_group_doc(disc: Discovery, group: str) -> dict | None:
    """GET /apis/<group>."""
    versions = _group_versions(disc).get(group)
    if versions is None:
        return None
    return {"apiVersion": "v1", "kind": "APIGroup", **api_group(group, versions)}


def resource_list(disc: Discovery, group: str, version: str) -> dict | None:
    """GET /api/v1 or /apis/<group>/<version>: the recorded APIResourceList."""
    for gv in disc.group_versions:
        if gv["group"] == group and gv["version"] == version:
            return {
                "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "kind": "APIResourceList",
                "resources": gv["resources"],
            }
    return None


def _aggregated_resource(res: Resource) -> dict:
    entry: dict = {
        "resource": res.plural,
        "responseKind": {"group": "", "kind": res.kind, "version": ""},
        "scope": "Namespaced" if res.namespaced else "Cluster",
        "singularResource": res.singular,
        "verbs": list(res.verbs),
    }
    if res.short_names:
        entry["shortNames"] = list(res.short_names)
    if res.categories:
        entry["categories"] = list(res.categories)
    if res.subresources:
        entry["subresources"] = [
            {
                "responseKind": {"group": group, "kind": kind, "version": version},
                "subresource": name,
                "verbs": list(verbs),
            }
            for name, (group, version, kind, verbs) in sorted(res.subresources.items())
        ]
    return entry


def aggregated(disc: Discovery, *, core: bool) -> dict:
    """The aggregated discovery (v2) document for /api (core=True) or /apis."""
    items = []
    for group, versions in {"": ["v1"]}.items() if core else _group_versions(disc).items():
        items.append(
            {
                "metadata": {"name": group} if group else {},
                "versions": [
                    {
                        "freshness": "Current",
                        "resources": [
                            _aggregated_resource(res)
                            for (g, v, _), res in sorted(disc.resources.items())
                            if g == group and v == version
                        ],
                        "version": version,
                    }
                    for version in versions
                ],
            }
        )
    return {
        "apiVersion": "apidiscovery.k8s.io/v2",
        "items": items,
        "kind": "APIGroupDiscoveryList",
        "metadata": {},
    }
