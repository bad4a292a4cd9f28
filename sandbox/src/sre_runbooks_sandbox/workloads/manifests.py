"""The cluster objects of every seed system, created by ``runbook sandbox up``.

Plain dicts as a client would POST them. Images, ports and names follow the seeds; resource
figures are ours, chosen so that the faults in ``scenarios`` can push usage over the alert
thresholds and a documented mitigation can bring it back.
"""

from __future__ import annotations

from typing import Any

GIB = 1024**3
MIB = 1024**2

NIMIFY_IMAGE = "nvcr.io/nimify/nimify-api:1.4.0"
TRITON_IMAGE = "nvcr.io/nvidia/tritonserver:24.08-py3"
POSTGRES_IMAGE = "postgres:16.4"
REDIS_IMAGE = "redis:7.4"
API_OPTIMIZER_IMAGE = "ghcr.io/api-optimizer/api-optimizer:2.3.1"
API_GATEWAY_IMAGE = "ghcr.io/ai-coding-bench/api-gateway:0.9.2"
BOLT_IMAGE = "ghcr.io/bolt/bolt-app:1.2.0"
DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.16.2"

GPUS_PER_NODE = 4

BOLT_CONFIG = {
    "event_pool_size": "1024",
    "sink_mode": "async",
    "allocator": "pool",
    "log_level": "info",
    "file_sink_fsync": "false",
    "ring_buffer_mb": "64",
}


def bolt_config_yaml(values: dict[str, str]) -> str:
    """The ``config.yaml`` key of ConfigMap bolt-app-config (seed 004 patches that key)."""
    return "".join(f"{key}: {value}\n" for key, value in values.items())


def parse_config_yaml(text: str) -> dict[str, str]:
    """Read back the flat ``key: value`` lines of a config.yaml (other lines are ignored)."""
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() and not key.startswith((" ", "#")):
            values[key.strip()] = value.strip().strip("\"'")
    return values


def _container(
    name: str,
    image: str,
    port: int,
    memory: str,
    *,
    cpu: str = "500m",
    extra_ports: tuple[tuple[str, int], ...] = (),
) -> dict[str, Any]:
    ports = [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    ports += [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in extra_ports]
    return {
        "name": name,
        "image": image,
        "ports": ports,
        "resources": {
            "requests": {"cpu": cpu, "memory": memory},
            "limits": {"memory": memory},
        },
    }


def _deployment(
    namespace: str,
    name: str,
    labels: dict[str, str],
    containers: list[dict[str, Any]],
    replicas: int,
    *,
    volumes: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": containers}
    if volumes:
        spec["volumes"] = volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": spec},
        },
    }


def _service(
    namespace: str, name: str, selector: dict[str, str], port: int, target: int
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "selector": dict(selector),
            "ports": [{"name": "http", "port": port, "targetPort": target, "protocol": "TCP"}],
        },
    }


def _configmap(namespace: str, name: str, data: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": dict(data),
    }


def _pvc(namespace: str, name: str, size: str, mode: str = "ReadWriteOnce") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "accessModes": [mode],
            "storageClassName": "standard",
            "resources": {"requests": {"storage": size}},
        },
    }


NAMESPACES = (
    "nimify-system",
    "triton-system",
    "database",
    "api-optimizer",
    "ai-coding-bench",
    "bolt-logging",
)


def manifests() -> list[dict[str, Any]]:
    """Every object to create, in an order that satisfies references (namespaces first)."""
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}} for ns in NAMESPACES
    ]
    objects.append(
        {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": "standard"},
            "provisioner": "rancher.io/local-path",
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "WaitForFirstConsumer",
            "allowVolumeExpansion": True,
        }
    )
    nimify = {"app": "nimify-api"}
    shared_data = [
        {"name": "nimify-data", "persistentVolumeClaim": {"claimName": "nimify-data"}},
        {"name": "config", "configMap": {"name": "nimify-config"}},
    ]
    objects += [
        _configmap(
            "nimify-system",
            "nimify-config",
            {"BATCH_SIZE": "8", "MAX_CONCURRENT_REQUESTS": "64", "MODEL_CACHE_SIZE": "4"},
        ),
        _pvc("nimify-system", "nimify-data", "100Gi", "ReadWriteMany"),
        _deployment(
            "nimify-system",
            "nimify-api",
            nimify,
            [_container("nimify-api", NIMIFY_IMAGE, 8080, "2Gi", extra_ports=(("metrics", 9090),))],
            3,
            volumes=shared_data,
        ),
        _service("nimify-system", "nimify-api", nimify, 80, 8080),
        _deployment(
            "nimify-system",
            "redis",
            {"app": "redis"},
            [_container("redis", REDIS_IMAGE, 6379, "2Gi", cpu="250m")],
            1,
        ),
        _service("nimify-system", "redis", {"app": "redis"}, 6379, 6379),
        _deployment(
            "triton-system",
            "triton-server",
            {"app": "triton-server"},
            [
                _container(
                    "triton-server",
                    TRITON_IMAGE,
                    8000,
                    "8Gi",
                    cpu="2",
                    extra_ports=(("metrics", 8002),),
                )
            ],
            1,
        ),
        _service("triton-system", "triton-server", {"app": "triton-server"}, 8000, 8000),
        _pvc("database", "postgres-storage", "50Gi"),
        {
            "apiVersion": "apps/v1",
            "kind": "StatefulSet",
            "metadata": {
                "name": "postgres",
                "namespace": "database",
                "labels": {"app": "postgres"},
            },
            "spec": {
                "replicas": 1,
                "serviceName": "postgres",
                "selector": {"matchLabels": {"app": "postgres"}},
                "template": {
                    "metadata": {"labels": {"app": "postgres"}},
                    "spec": {
                        "containers": [
                            _container(
                                "postgres",
                                POSTGRES_IMAGE,
                                5432,
                                "4Gi",
                                cpu="1",
                                extra_ports=(("metrics", 9187),),
                            )
                        ],
                        "volumes": [
                            {
                                "name": "postgres-storage",
                                "persistentVolumeClaim": {"claimName": "postgres-storage"},
                            }
                        ],
                    },
                },
            },
        },
        _service("database", "postgres", {"app": "postgres"}, 5432, 5432),
        _configmap(
            "api-optimizer",
            "api-optimizer-config",
            {"cache_ttl_seconds": "3600", "cache_max_entries": "100000"},
        ),
    ]
    for version, replicas in (("stable", 3), ("blue", 1), ("green", 1)):
        name = "api-optimizer" if version == "stable" else f"api-optimizer-{version}"
        objects.append(
            _deployment(
                "api-optimizer",
                name,
                {"app": "api-optimizer", "version": version},
                [_container("api-optimizer", API_OPTIMIZER_IMAGE, 8000, "1Gi")],
                replicas,
            )
        )
    objects += [
        _service(
            "api-optimizer",
            "api-optimizer",
            {"app": "api-optimizer", "version": "stable"},
            80,
            8000,
        ),
        _deployment(
            "ai-coding-bench",
            "api-gateway",
            {"app": "api-gateway"},
            [_container("api-gateway", API_GATEWAY_IMAGE, 8080, "1Gi")],
            2,
        ),
        _service("ai-coding-bench", "api-gateway", {"app": "api-gateway"}, 80, 8080),
        _configmap(
            "bolt-logging", "bolt-app-config", {"config.yaml": bolt_config_yaml(BOLT_CONFIG)}
        ),
        _deployment(
            "bolt-logging",
            "bolt-app",
            {"app": "bolt-app"},
            [
                _container(
                    "bolt-app", BOLT_IMAGE, 9090, "1Gi", cpu="1", extra_ports=(("pprof", 6060),)
                )
            ],
            2,
        ),
        _service("bolt-logging", "bolt-app-service", {"app": "bolt-app"}, 9090, 9090),
        {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "nvidia-device-plugin-daemonset", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": {"name": "nvidia-device-plugin-ds"}},
                "template": {
                    "metadata": {"labels": {"name": "nvidia-device-plugin-ds"}},
                    "spec": {
                        "containers": [
                            {
                                "name": "nvidia-device-plugin-ctr",
                                "image": DEVICE_PLUGIN_IMAGE,
                                "resources": {"limits": {"memory": "128Mi"}},
                            }
                        ],
                        "tolerations": [
                            {
                                "key": "nvidia.com/gpu",
                                "operator": "Exists",
                                "effect": "NoSchedule",
                            }
                        ],
                    },
                },
            },
        },
    ]
    return objects
