"""Start, probe and stop real Prometheus and Alertmanager processes on 127.0.0.1."""

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

from sre_runbooks.monitoring.binaries import find_binary

LOOPBACK = "127.0.0.1"


class ServerError(RuntimeError):
    """A server did not start, did not become ready, or could not be given data."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def get_json(url: str, params: Mapping[str, str] | None = None, timeout: float = 5.0) -> Any:
    """GET ``url`` on loopback and decode its JSON body."""
    if params:
        url = f"{url}?{urllib.parse.urlencode(params)}"
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310  (http on loopback only)
        return json.load(response)


def poll(check: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Call ``check`` until it returns true or ``timeout`` seconds pass; return its last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def process_start(pid: int) -> int | None:
    """When ``pid`` started, in clock ticks since boot (/proc/PID/stat field 22), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return int(fields[19])


def pid_alive(pid: int, marker: str = "", started: int | None = None) -> bool:
    """Whether ``pid`` runs, has ``marker`` in its command line and, when ``started`` is given,
    is the process that started then.

    Marker and start time guard against signalling a process that reused the PID of one we
    started (a `tail -f` of its log would have the marker in its command line, not its start).
    """
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return False
    if not status or status[0] == "Z":
        return False
    if started is not None and int(status[19]) != started:
        return False
    return marker in cmdline


def stop_pid(pid: int, marker: str, timeout: float = 10.0, started: int | None = None) -> bool:
    """SIGTERM ``pid`` if it is ours, SIGKILL it after ``timeout``; True when it was running."""
    if not pid_alive(pid, marker, started):
        return False
    os.kill(pid, signal.SIGTERM)
    if not poll(lambda: not pid_alive(pid, marker, started), timeout):
        os.kill(pid, signal.SIGKILL)
        poll(lambda: not pid_alive(pid, marker, started), timeout)
    return True


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


class Server:
    """One server process with its own working directory (config, data, log)."""

    binary_name: ClassVar[str]
    ready_path: ClassVar[str] = "/-/ready"

    def __init__(self, workdir: str | os.PathLike[str] | None = None, port: int | None = None):
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=f"sre-runbooks-{self.binary_name}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port
        self._fixed_port = port is not None
        self.process: subprocess.Popen[bytes] | None = None
        self.pid: int | None = None

    # What subclasses define.
    def write_config(self) -> None:
        raise NotImplementedError

    def args(self) -> list[str]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.binary_name}.log"

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}{self.ready_path}", timeout=1) as response:  # noqa: S310  (loopback)
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def start(self, timeout: float = 30.0) -> Self:
        """Start the process and return once it answers ready, or raise ``ServerError``."""
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            if not self._fixed_port:
                self.port = free_port()
            self.write_config()
            with self.log_path.open("ab") as log:
                # A session of its own: signals to the caller's terminal do not reach it, and
                # `runbook monitoring down` can stop it after the starting command has exited.
                self.process = subprocess.Popen(
                    self.args(),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    cwd=self.workdir,
                    start_new_session=True,
                )
            self.pid = self.process.pid
            if poll(lambda: self.is_ready() or self.process.poll() is not None, timeout):
                if self.process.poll() is None:
                    return self
                lost_port = "address already in use" in _tail(self.log_path).lower()
                if lost_port and attempt + 1 < attempts:
                    continue  # another process took the free port between probe and bind
                raise ServerError(
                    f"{self.binary_name} exited with code {self.process.returncode} while "
                    f"starting on {self.url}; last log lines from {self.log_path}:\n"
                    f"{_tail(self.log_path)}"
                )
            self.stop()
            raise ServerError(
                f"{self.binary_name} was not ready at {self.url}{self.ready_path} within "
                f"{timeout:g}s; last log lines from {self.log_path}:\n{_tail(self.log_path)}"
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process this object started (by PID), waiting for it to exit."""
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout)
            self.process = None
        elif self.pid is not None:
            stop_pid(self.pid, str(self.workdir), timeout)
        self.pid = None

    def detach(self) -> None:
        """Leave the process running beyond this object; from now on only its PID names it."""
        if self.process is not None:
            # Popen warns when it is collected while its child runs; this child is meant to
            # outlive it (`runbook monitoring down` stops it by PID), so mark it released.
            self.process.returncode = 0
            self.process = None

    def state(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "started": process_start(self.pid) if self.pid else None,
            "port": self.port,
            "url": self.url,
            "workdir": str(self.workdir),
            "log": str(self.log_path),
        }

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrometheusServer(Server):
    """Prometheus with the given rules, scrape configs and Alertmanagers.

    The data directory is ``workdir/data``; call ``backfill()`` on it before ``start()`` to
    give the server exact historical samples.

    A firing alert that could not be delivered is sent again after ``resend_delay``
    (``--rules.alert.resend-delay``: 1m in Prometheus, here the evaluation interval unless given).
    That matters right after start: Prometheus' service discovery hands the Alertmanagers to its
    notifier only after about 5 s, and an alert that fires before then reaches nobody; with
    Prometheus' default it would reach the Alertmanagers a minute later.
    """

    binary_name = "prometheus"

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        rule_files: Iterable[str | os.PathLike[str]] = (),
        scrape_configs: Iterable[Mapping[str, Any]] = (),
        alertmanager_urls: Iterable[str] = (),
        scrape_interval: str = "1s",
        evaluation_interval: str = "1s",
        external_labels: Mapping[str, str] | None = None,
        resend_delay: str | None = None,
    ) -> None:
        super().__init__(workdir, port)
        self.rule_files = [str(Path(p).resolve()) for p in rule_files]
        self.scrape_configs = [dict(c) for c in scrape_configs]
        self.alertmanager_urls = list(alertmanager_urls)
        self.scrape_interval = scrape_interval
        self.evaluation_interval = evaluation_interval
        self.external_labels = dict(external_labels or {})
        self.resend_delay = resend_delay or evaluation_interval

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def config_path(self) -> Path:
        return self.workdir / "prometheus.yml"

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "global": {
                "scrape_interval": self.scrape_interval,
                "evaluation_interval": self.evaluation_interval,
                "external_labels": self.external_labels,
            },
            "rule_files": self.rule_files,
            "scrape_configs": self.scrape_configs,
        }
        if self.alertmanager_urls:
            targets = [urllib.parse.urlsplit(u).netloc for u in self.alertmanager_urls]
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": targets}]}]}
        return config

    def write_config(self) -> None:
        # JSON is YAML, so no YAML library is needed to write a valid configuration.
        self.config_path.write_text(json.dumps(self.config(), indent=2))
        self.data_dir.mkdir(exist_ok=True)

    def args(self) -> list[str]:
        return [
            find_binary("prometheus"),
            f"--config.file={self.config_path}",
            f"--storage.tsdb.path={self.data_dir}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
            # Backfilled test data may be weeks old; keep it queryable.
            "--storage.tsdb.retention.time=3650d",
            "--web.enable-lifecycle",
            "--web.enable-admin-api",
            "--log.level=info",
            f"--rules.alert.resend-delay={self.resend_delay}",
        ]

    def reload(self) -> None:
        """Re-read the configuration file (rule files included) without a restart."""
        self.write_config()
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")  # noqa: S310  (loopback)
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310  (loopback)
            if response.status != 200:
                raise ServerError(f"Prometheus reload at {self.url} answered {response.status}")

    def query(self, expr: str, at: float | None = None) -> list[dict[str, Any]]:
        """Evaluate ``expr`` (instant query) and return the result list; for tests and drills."""
        params = {"query": expr}
        if at is not None:
            params["time"] = repr(at)
        body = get_json(f"{self.url}/api/v1/query", params)
        if body.get("status") != "success":
            raise ServerError(f"query {expr!r} failed: {body.get('error')}")
        return list(body["data"]["result"])

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts as Prometheus' rule evaluation sees them (pending and firing)."""
        return list(get_json(f"{self.url}/api/v1/alerts")["data"]["alerts"])

    def wait_for_targets(self, timeout: float = 30.0) -> None:
        """Return once every scrape target has been scraped successfully at least once."""

        def all_up() -> bool:
            active = get_json(f"{self.url}/api/v1/targets")["data"]["activeTargets"]
            return bool(active) and all(t["health"] == "up" for t in active)

        if not poll(all_up, timeout, interval=0.1):
            raise ServerError(f"Prometheus at {self.url} did not scrape every target in {timeout}s")


class AlertmanagerServer(Server):
    """Alertmanager with one route to a default receiver (webhooks optional), no clustering."""

    binary_name = "alertmanager"

    def __init__(
        self,
        workdir: str | os.PathLike[str] | None = None,
        *,
        port: int | None = None,
        webhook_urls: Iterable[str] = (),
        group_wait: str = "1s",
        group_interval: str = "1s",
        repeat_interval: str = "1h",
    ) -> None:
        super().__init__(workdir, port)
        self.webhook_urls = list(webhook_urls)
        self.group_wait = group_wait
        self.group_interval = group_interval
        self.repeat_interval = repeat_interval

    @property
    def config_path(self) -> Path:
        return self.workdir / "alertmanager.yml"

    def config(self) -> dict[str, Any]:
        receiver: dict[str, Any] = {"name": "default"}
        if self.webhook_urls:
            receiver["webhook_configs"] = [
                {"url": url, "send_resolved": True} for url in self.webhook_urls
            ]
        return {
            "route": {
                "receiver": "default",
                "group_by": ["alertname", "namespace"],
                "group_wait": self.group_wait,
                "group_interval": self.group_interval,
                "repeat_interval": self.repeat_interval,
            },
            "receivers": [receiver],
        }

    def write_config(self) -> None:
        self.config_path.write_text(json.dumps(self.config(), indent=2))
        (self.workdir / "data").mkdir(exist_ok=True)

    def args(self) -> list[str]:
        return [
            find_binary("alertmanager"),
            f"--config.file={self.config_path}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
            # An empty cluster address turns off HA gossip, which would bind 0.0.0.0:9094.
            "--cluster.listen-address=",
            "--log.level=info",
        ]


def backfill(openmetrics: str, data_dir: str | os.PathLike[str]) -> None:
    """Write exact samples into TSDB blocks under ``data_dir`` (before Prometheus starts).

    ``openmetrics`` is OpenMetrics text with timestamps in seconds, e.g.
    ``http_requests_total{job="api"} 42 1700000000``; the ``# EOF`` line is added if missing.
    """
    text = openmetrics if openmetrics.rstrip().endswith("# EOF") else openmetrics + "\n# EOF\n"
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".om", delete=False) as source:
        source.write(text.lstrip() if text.endswith("\n") else text + "\n")
    try:
        result = subprocess.run(
            [
                find_binary("promtool"),
                "tsdb",
                "create-blocks-from",
                "openmetrics",
                source.name,
                str(data),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        Path(source.name).unlink()
    if result.returncode != 0:
        raise ServerError(
            f"promtool could not backfill {data}: {(result.stderr or result.stdout).strip()}"
        )
