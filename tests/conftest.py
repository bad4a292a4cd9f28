"""Fixtures: real Prometheus and Alertmanager processes on 127.0.0.1, stopped at teardown."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sre_runbooks.monitoring import (
    AlertmanagerServer,
    MetricsTarget,
    PrometheusServer,
    backfill,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
RULES_DIR = REPO_ROOT / "prometheus" / "rules"

PrometheusFactory = Callable[..., PrometheusServer]


@pytest.fixture(scope="session")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertmanagerServer]:
    """One Alertmanager for the session (tests scope their silences by unique matchers)."""
    with AlertmanagerServer(tmp_path_factory.mktemp("alertmanager")) as server:
        yield server


@pytest.fixture
def prometheus_factory(tmp_path: Path) -> Iterator[PrometheusFactory]:
    """Start Prometheus servers for one test; ``series=`` backfills OpenMetrics text first."""
    servers: list[PrometheusServer] = []

    def start(*, series: str | None = None, **options: Any) -> PrometheusServer:
        server = PrometheusServer(tmp_path / f"prometheus-{len(servers)}", **options)
        servers.append(server)
        if series:
            backfill(series, server.data_dir)
        return server.start()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def metrics_target() -> Iterator[MetricsTarget]:
    """An exposition endpoint whose text the test sets while Prometheus scrapes it."""
    with MetricsTarget() as target:
        yield target
