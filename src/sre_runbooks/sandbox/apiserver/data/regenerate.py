"""Rebuild discovery.json and protobuf.json (a development tool, not used at run time).

    python src/sre_runbooks/sandbox/apiserver/data/regenerate.py \\
        --reference RECORDING_DIR --api ~/src/k8s-api --apimachinery ~/src/apimachinery

`--reference` is the recording of a real API server (its discovery/ directory); `--api` and
`--apimachinery` are checkouts of k8s.io/api and k8s.io/apimachinery, whose generated.proto files
give the protobuf field numbers. To serve another kind or subresource, add it to SERVED (and its
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


if __name__ == "__main__":
    main()
