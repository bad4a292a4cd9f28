"""The simulated systems of the five seeds: cluster objects, behaviour, metrics and faults.

- ``manifests``: the namespaces, workloads, Services, ConfigMaps and PVCs created at ``up``.
- ``model``: ``SandboxModel``, the ``Workloads`` implementation (container states, logs, exec,
  HTTP, usage) and the state that Kubernetes objects do not hold (disk, sessions, caches).
- ``metrics``: the Prometheus exposition of every job, derived from cluster state and model.
- ``scenarios``: one fault per alert, with its cure (docs/sandbox-scenarios.md).
"""

from .model import SandboxModel
from .scenarios import SCENARIOS, Scenario, find, restore_baseline

__all__ = ["SCENARIOS", "SandboxModel", "Scenario", "find", "restore_baseline"]
