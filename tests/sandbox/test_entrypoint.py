"""The command-line entry point: starts, writes a kubeconfig, prints the URL, stops cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import yaml


def test_module_entry_point_serves_until_terminated(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sre_runbooks_sandbox.apiserver",
            "--port",
            "0",
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        text=True,
    ) as server:
        try:
            url = server.stdout.readline().strip()
            assert url.startswith("http://127.0.0.1:")
            config = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
            assert config["clusters"][0]["cluster"]["server"] == url
            assert config["current-context"] == config["contexts"][0]["name"]
            assert config["users"][0]["user"]["token"]
            with urllib.request.urlopen(url + "/api/v1/nodes", timeout=10) as response:
                nodes = json.load(response)
            assert [n["metadata"]["name"] for n in nodes["items"]] == ["node-a", "node-b"]
        finally:
            server.send_signal(signal.SIGTERM)
            assert server.wait(timeout=10) == 0
