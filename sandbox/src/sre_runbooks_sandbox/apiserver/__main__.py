"""Run the simulated API server until interrupted.

    python -m sre_runbooks_sandbox.apiserver --port 0 --kubeconfig ./sandbox.kubeconfig

It prints the URL on the first line of standard output once it is ready to serve.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import DEFAULT_NODES, start_apiserver


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, serve, and stop cleanly on SIGINT or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m sre_runbooks_sandbox.apiserver")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--kubeconfig", help="write a kubeconfig for the server to this path")
    parser.add_argument(
        "--nodes", default=",".join(DEFAULT_NODES), help="comma-separated simulated node names"
    )
    args = parser.parse_args(argv)
    server = start_apiserver(
        args.port, args.kubeconfig, tuple(n for n in args.nodes.split(",") if n)
    )
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    sys.stdout.write(server.url + "\n")
    sys.stdout.flush()
    done.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
