"""The OpenAPI v3 documents kubectl needs: which kinds accept server-side field validation.

`kubectl create -f` and `kubectl replace -f` ask /openapi/v3 whether the PATCH operation of a kind
takes the `fieldValidation` query parameter; if it does, kubectl leaves validation to the server
instead of downloading full schemas. So each group-version document lists, per served kind, the
object path with a PATCH operation tagged `x-kubernetes-group-version-kind` and that parameter.
Schemas are left out; `kubectl explain` is therefore not supported.
"""

from __future__ import annotations

from .resources import Discovery

_QUERY_PARAMS = ("dryRun", "fieldManager", "fieldValidation", "force")


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def root(disc: Discovery) -> dict:
    """GET /openapi/v3: where each group-version's document lives."""
    paths = {}
    for gv in disc.group_versions:
        path = _gv_path(gv["group"], gv["version"])
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash=sandbox"}
    return {"paths": paths}


def group_version(disc: Discovery, path: str) -> dict | None:
    """GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>."""
    found = [gv for gv in disc.group_versions if _gv_path(gv["group"], gv["version"]) == path]
    if not found:
        return None
    group, version = found[0]["group"], found[0]["version"]
    paths = {}
    for (g, v, plural), res in sorted(disc.resources.items()):
        if (g, v) != (group, version):
            continue
        scope = "/namespaces/{namespace}" if res.namespaced else ""
        paths[f"/{path}{scope}/{plural}/{{name}}"] = {
            "patch": {
                "operationId": f"patch{res.kind}",
                "parameters": [
                    {"in": "query", "name": name, "schema": {"type": "string"}}
                    for name in _QUERY_PARAMS
                ],
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {
                    "group": group,
                    "kind": res.kind,
                    "version": version,
                },
            }
        }
    return {
        "components": {"schemas": {}},
        "info": {"title": "Kubernetes", "version": disc.version["gitVersion"]},
        "openapi": "3.0.0",
        "paths": paths,
    }
