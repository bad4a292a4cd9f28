"""Real Prometheus and Alertmanager servers on loopback, for tests, molecule and the sandbox.

Two ways to give Prometheus data, because tests need both:

* ``backfill()`` writes exact samples at exact timestamps into TSDB blocks with
  ``promtool tsdb create-blocks-from openmetrics`` before the server starts. Range queries
  over the past then return exactly what was written, with no waiting for scrapes. This is
  what value-exact query tests use.
* ``MetricsTarget`` is an HTTP endpoint the test controls and Prometheus scrapes. Values
  change while the server runs, so alerting rules evaluate and fire in real time. This is
  what alerting and the sandbox use.
"""

from sre_runbooks.monitoring.binaries import MissingBinaryError, find_binary
from sre_runbooks.monitoring.servers import (
    AlertmanagerServer,
    PrometheusServer,
    ServerError,
    backfill,
    free_port,
)
from sre_runbooks.monitoring.target import MetricsTarget

__all__ = [
    "AlertmanagerServer",
    "MetricsTarget",
    "MissingBinaryError",
    "PrometheusServer",
    "ServerError",
    "backfill",
    "find_binary",
    "free_port",
]
