"""Rebuild discovery.json, protobuf.json and fields.json (a development tool, not used at run time).

    python sandbox/src/sre_runbooks_sandbox/apiserver/data/regenerate.py \\
        --reference RECORDING_DIR --api ~/src/k8s-api --apimachinery ~/src/apimachinery

`--reference` is the recording of a real API server (its discovery/ directory); `--api` and
`--apimachinery` are checkouts of k8s.io/api and k8s.io/apimachinery (the tags matching the
recorded server, v0.36.2 for v1.36.2), whose generated.proto files give the protobuf field numbers
and whose types.go files give each field's JSON type and `omitempty`, which the server's
serialization follows (fields.json). To serve another kind or subresource, add it to SERVED (and its
message to PROTOBUF_ROOTS if kubectl's typed clients send it), then run this again.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

HERE = Path(__file__).parent
SERVED = {
    ("", "v1"): [
        "namespaces",
        "namespaces/status",
        "nodes",
        "nodes/status",
        "pods",
        "pods/status",
        "pods/eviction",
        "pods/exec",
        "pods/log",
        "pods/proxy",
        "services",
        "services/proxy",
        "services/status",
        "endpoints",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
        "persistentvolumeclaims/status",
        "events",
    ],
    ("apps", "v1"): [
        "deployments",
        "deployments/status",
        "deployments/scale",
        "replicasets",
        "replicasets/status",
        "replicasets/scale",
        "statefulsets",
        "statefulsets/status",
        "statefulsets/scale",
        "daemonsets",
        "daemonsets/status",
        "controllerrevisions",
    ],
    ("events.k8s.io", "v1"): ["events"],
    ("coordination.k8s.io", "v1"): ["leases"],
    ("networking.k8s.io", "v1"): ["networkpolicies"],
    ("storage.k8s.io", "v1"): ["storageclasses"],
}
# Aggregated APIs the recording lacks (it had no metrics-server): their resource lists as
# metrics-server v0.7 serves them.
AGGREGATED_APIS = [
    {
        "group": "metrics.k8s.io",
        "version": "v1beta1",
        "resources": [
            {
                "kind": "NodeMetrics",
                "name": "nodes",
                "namespaced": False,
                "singularName": "",
                "verbs": ["get", "list"],
            },
            {
                "kind": "PodMetrics",
                "name": "pods",
                "namespaced": True,
                "singularName": "",
                "verbs": ["get", "list"],
            },
        ],
    }
]
PROTO_FILES = {
    "api": [
        "core/v1",
        "apps/v1",
        "autoscaling/v1",
        "coordination/v1",
        "events/v1",
        "networking/v1",
        "policy/v1",
        "storage/v1",
    ],
    "apimachinery": ["pkg/api/resource", "pkg/apis/meta/v1", "pkg/runtime", "pkg/util/intstr"],
}
PROTOBUF_ROOTS = [
    *(
        f"k8s.io.api.core.v1.{kind}"
        for kind in (
            "Namespace",
            "Node",
            "Pod",
            "Service",
            "Endpoints",
            "ConfigMap",
            "Secret",
            "PersistentVolumeClaim",
            "Event",
        )
    ),
    *(
        f"k8s.io.api.apps.v1.{kind}"
        for kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "ControllerRevision")
    ),
    "k8s.io.api.storage.v1.StorageClass",
    "k8s.io.api.events.v1.Event",
    "k8s.io.api.coordination.v1.Lease",
    "k8s.io.api.networking.v1.NetworkPolicy",
    "k8s.io.api.autoscaling.v1.Scale",
    "k8s.io.api.policy.v1.Eviction",
    "k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "k8s.io.apimachinery.pkg.runtime.Unknown",
]
SCALARS = {"string", "bytes", "bool", "int32", "int64"}
_MAP = re.compile(r"^(?:optional\s+)?map<(\w+),\s*([\w.]+)>\s+(\w+)\s*=\s*(\d+);")
_FIELD = re.compile(r"^(optional|repeated)?\s*([\w.]+)\s+(\w+)\s*=\s*(\d+);")


def discovery(reference: Path) -> dict:
    """The real server's /version and resource lists, trimmed to SERVED."""
    out: dict = {
        "version": json.loads((reference / "version.json").read_text()),
        "groupVersions": [],
    }
    for (group, version), names in SERVED.items():
        name = "api_v1.json" if not group else f"apis_{group}_{version}.json"
        listed = json.loads((reference / name).read_text())["resources"]
        kept = sorted((r for r in listed if r["name"] in names), key=lambda r: r["name"])
        missing = set(names) - {r["name"] for r in kept}
        if missing:
            raise SystemExit(f"not in the recording: {sorted(missing)}")
        out["groupVersions"].append({"group": group, "version": version, "resources": kept})
    out["groupVersions"].extend(AGGREGATED_APIS)
    return out


def _qualify(kind: str, package: str) -> str:
    if kind in SCALARS:
        return kind
    return kind.lstrip(".") if kind.startswith(".") else f"{package}.{kind}"


def _messages(text: str) -> dict[str, dict[str, list]]:
    package = re.search(r"^package ([\w.]+);", text, re.MULTILINE).group(1)
    found = {}
    for match in re.finditer(r"^message (\w+) \{(.*?)^\}", text, re.MULTILINE | re.DOTALL):
        fields: dict[str, list] = {}
        for line in (raw.strip() for raw in match.group(2).splitlines()):
            if mapped := _MAP.match(line):
                _, value, name, number = mapped.groups()
                fields[number] = [name, "map:" + _qualify(value, package), 0]
            elif field := _FIELD.match(line):
                label, kind, name, number = field.groups()
                fields[number] = [name, _qualify(kind, package), int(label == "repeated")]
        found[f"{package}.{match.group(1)}"] = fields
    return found


def protobuf(api: Path, apimachinery: Path) -> dict:
    """Field tables of PROTOBUF_ROOTS and every message they use."""
    messages: dict[str, dict[str, list]] = {}
    for root, dirs in ((api, PROTO_FILES["api"]), (apimachinery, PROTO_FILES["apimachinery"])):
        for directory in dirs:
            messages.update(_messages((root / directory / "generated.proto").read_text()))
    out: dict[str, dict[str, list]] = {}
    todo = list(PROTOBUF_ROOTS)
    while todo:
        name = todo.pop()
        if name in out:
            continue
        out[name] = messages[name]
        todo.extend(
            kind.removeprefix("map:")
            for _, kind, _ in out[name].values()
            if kind.removeprefix("map:") not in SCALARS
        )
    return out


# -- fields.json: what the server's JSON serialization keeps and drops -----------------------------
# Go packages whose types.go files hold the served kinds and everything they embed, as
# (checkout, directory, the short name used in fields.json).
GO_PACKAGES = [
    *(
        ("api", f"{group}/v1", group)
        for group in (
            "core",
            "apps",
            "coordination",
            "events",
            "networking",
            "storage",
            "autoscaling",
            "policy",
        )
    ),
    ("apimachinery", "pkg/apis/meta/v1", "meta"),
]
# Go import aliases in those files -> the short names above.
GO_ALIASES = {"metav1": "meta", "v1": "core", "corev1": "core", "apiv1": "core"}
# Types with their own JSON encoding: (package, Go name) -> type code in fields.json.
GO_SPECIAL = {
    ("resource", "Quantity"): "q",
    ("intstr", "IntOrString"): "x",
    ("meta", "Time"): "t",
    ("meta", "MicroTime"): "t",
    ("meta", "Duration"): "s",
    ("meta", "FieldsV1"): "r",
    ("runtime", "RawExtension"): "r",
    ("types", "UID"): "s",
    ("core", "ResourceList"): "m:Q",  # quantities rounded up to 1m (SetDefaults_ResourceList)
}
GO_SCALARS = {
    "string": "s",
    "bool": "b",
    "byte": "s",
    "float64": "f",
    **{f"{sign}int{bits}": "i" for sign in ("", "u") for bits in ("", "8", "16", "32", "64")},
}
_STRUCT = re.compile(r"^type (\w+) struct \{(.*?)^\}", re.MULTILINE | re.DOTALL)
_NAMED = re.compile(r"^type (\w+) ([\w.*\[\]]+)\s*$", re.MULTILINE)
_GO_FIELD = re.compile(r'^\s*(?:(\w+)\s+)?([\w.*\[\]]+)\s+`json:"([^"]*)"')


def _go_type(text: str, package: str, named: dict[tuple[str, str], str]) -> str:  # noqa: PLR0911  (a case a Go type form)
    """A Go field type as a fields.json type code."""
    text = text.lstrip("*")
    if text == "[]byte":
        return "s"  # base64
    if text.startswith("[]"):
        return "l:" + _go_type(text[2:], package, named)
    if text.startswith("map["):
        return "m:" + _go_type(text[text.index("]") + 1 :], package, named)
    if text in GO_SCALARS:
        return GO_SCALARS[text]
    owner, _, name = text.rpartition(".")
    owner = GO_ALIASES.get(owner, owner) if owner else package
    if (owner, name) in GO_SPECIAL:
        return GO_SPECIAL[(owner, name)]
    if (owner, name) in named:
        return _go_type(named[(owner, name)], owner, named)
    return f"{owner}.{name}"


def fields(api: Path, apimachinery: Path) -> dict:
    """Every struct's JSON fields: {"pkg.Struct": {json name: [type, flags]}}; flags holds "o"
    for omitempty and "p" for a pointer. Embedded (inline) structs are merged in."""
    roots = {"api": api, "apimachinery": apimachinery}
    sources = []
    for root, directory, short in GO_PACKAGES:
        for path in sorted((roots[root] / directory).glob("*.go")):
            if not path.name.endswith("_test.go") and not path.name.startswith("zz_"):
                sources.append((short, path.read_text()))
    named = {
        (short, m.group(1)): m.group(2) for short, text in sources for m in _NAMED.finditer(text)
    }
    raw: dict[str, list] = {}
    for short, text in sources:
        for match in _STRUCT.finditer(text):
            members = []
            for line in match.group(2).splitlines():
                found = _GO_FIELD.match(line)
                if not found or found.group(3) == "-":
                    continue
                _, go_type, tag = found.groups()
                json_name, *options = tag.split(",")
                if "inline" in options or not json_name:
                    members.append(("", _go_type(go_type, short, named), ""))
                    continue
                flags = ("o" if "omitempty" in options else "") + (
                    "p" if go_type.startswith("*") else ""
                )
                members.append((json_name, _go_type(go_type, short, named), flags))
            raw[f"{short}.{match.group(1)}"] = members

    def flatten(name: str) -> dict[str, list]:
        out: dict[str, list] = {}
        for json_name, code, flags in raw.get(name, []):
            if json_name:
                out[json_name] = [code, flags]
            else:
                out.update(flatten(code))
        return out

    return {name: flatten(name) for name in sorted(raw) if not name.startswith("meta.TypeMeta")}


def main() -> None:
    """Write both data files next to this script."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, required=True)
    parser.add_argument("--api", type=Path, required=True)
    parser.add_argument("--apimachinery", type=Path, required=True)
    args = parser.parse_args()
    (HERE / "discovery.json").write_text(
        json.dumps(discovery(args.reference / "discovery"), indent=1, sort_keys=True)
    )
    (HERE / "protobuf.json").write_text(
        json.dumps(protobuf(args.api, args.apimachinery), separators=(",", ":"), sort_keys=True)
    )
    (HERE / "fields.json").write_text(
        json.dumps(fields(args.api, args.apimachinery), separators=(",", ":"), sort_keys=True)
    )


if __name__ == "__main__":
    main()
