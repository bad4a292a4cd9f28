"""How much time `runbook run` adds to plain `ansible-playbook` on the same playbook.

    .venv/bin/python bench/launcher.py [--runs 5]

A small playbook in a temporary directory (a few `set_fact` and `debug` tasks on a local host,
writing the report.json the launcher reads) runs N times each way, interleaved:

- `ansible-playbook -i hosts.yml -e @extravars.yml remediate.yml`, as a subprocess;
- `runbook run HighErrorRate --system nimify --inventory hosts.yml`, as a subprocess of this
  Python with the playbook and roles directories pointed at the temporary ones (the command line
  a user types, with the whole launcher: imports, catalog, inventory check, ansible-runner,
  artifacts, summary).

It prints the median wall time of each and the ratio launcher / ansible-playbook (the goal is
under 1.10). No threshold: the exit code is 0 when every run succeeded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_RATIO = 1.10
REPO_ROOT = Path(__file__).resolve().parents[1]
ALERT = ("HighErrorRate", "--system", "nimify")
ROLE = "high_error_rate"

PLAYBOOK = """\
---
- name: Benchmark playbook
  hosts: all
  gather_facts: false
  tasks:
    - name: Assess
      ansible.builtin.set_fact:
        _bench_assessed: "{{ alert }}"
    - name: Decide
      ansible.builtin.debug:
        msg: "deciding for {{ _bench_assessed }}"
    - name: Mitigate
      ansible.builtin.set_fact:
        _bench_done: true
    - name: Verify
      ansible.builtin.debug:
        var: _bench_done
    - name: Create the report directory
      ansible.builtin.file:
        path: "{{ sre_runbooks_report_dir }}/{{ inventory_hostname }}"
        state: directory
        mode: "0700"
    - name: Write the report the launcher reads
      ansible.builtin.copy:
        dest: "{{ sre_runbooks_report_dir }}/{{ inventory_hostname }}/report.json"
        content: "{{ {'outcome': 'resolved'} | to_json }}"
        mode: "0600"
"""
INVENTORY = """\
all:
  hosts:
    bench:
      ansible_connection: local
      ansible_python_interpreter: "{{ ansible_playbook_python }}"
"""

LAUNCHER = (
    "import sys; from pathlib import Path; from sre_runbooks.cli import main; "
    "playbooks, roles, *argv = sys.argv[1:]; "
    "sys.exit(main(argv, playbooks_dir=Path(playbooks), roles_dir=Path(roles)))"
)


def _environment() -> dict[str, str]:
    """The environment of both variants: the collection's ansible.cfg, this venv first."""
    venv_bin = str(Path(sys.executable).parent)
    return {
        **os.environ,
        "PATH": os.pathsep.join([venv_bin, os.environ.get("PATH", os.defpath)]),
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / ".collections"),
        "ANSIBLE_LOCALHOST_WARNING": "0",
    }


def _time(command: list[str], cwd: Path) -> float:
    start = time.monotonic()
    result = subprocess.run(
        command, cwd=cwd, env=_environment(), capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - start
    if result.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return elapsed


def _setup(root: Path) -> None:
    (root / "playbooks").mkdir()
    (root / "playbooks" / "remediate.yml").write_text(PLAYBOOK)
    # A role counts as available for the system its tasks pass to the remediation contract.
    (root / "roles" / ROLE / "tasks").mkdir(parents=True)
    (root / "roles" / ROLE / "tasks" / "main.yml").write_text(
        "---\n- ansible.builtin.include_role: {name: sre.runbooks.remediation}\n"
        "  vars: {remediation_system: nimify}\n"
    )
    (root / "hosts.yml").write_text(INVENTORY)
    (root / "report").mkdir()
    (root / "extravars.yml").write_text(
        "---\n"
        'alert: "HighErrorRate"\n'
        'alert_labels: {"alertname": "HighErrorRate", "system": "nimify"}\n'
        "alert_annotations: {}\n"
        'alert_fingerprint: ""\n'
        'alert_starts_at: ""\n'
        'sre_runbooks_run_id: "bench"\n'
        f'sre_runbooks_report_dir: "{root / "report"}"\n'
        "sre_runbooks_approve: false\n"
    )


def _playbook_command(root: Path) -> list[str]:
    ansible_playbook = str(Path(sys.executable).parent / "ansible-playbook")
    return [
        ansible_playbook,
        "-i",
        str(root / "hosts.yml"),
        "-e",
        f"@{root / 'extravars.yml'}",
        str(root / "playbooks" / "remediate.yml"),
    ]


def _launcher_command(root: Path) -> list[str]:
    return [
        sys.executable,
        "-c",
        LAUNCHER,
        str(root / "playbooks"),
        str(root / "roles"),
        "run",
        *ALERT,
        "--inventory",
        str(root / "hosts.yml"),
        "--artifacts-dir",
        str(root / "runs"),
        "--keep",
        "3",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    plain: list[float] = []
    launcher: list[float] = []
    with tempfile.TemporaryDirectory(prefix="launcher-bench-") as tmp:
        root = Path(tmp)
        _setup(root)
        _time(_playbook_command(root), root)  # warm the page cache and Python's bytecode
        _time(_launcher_command(root), root)
        for i in range(1, args.runs + 1):
            plain.append(_time(_playbook_command(root), root))
            launcher.append(_time(_launcher_command(root), root))
            print(f"run {i}: ansible-playbook {plain[-1]:.2f} s, runbook run {launcher[-1]:.2f} s")
    plain_median = statistics.median(plain)
    launcher_median = statistics.median(launcher)
    ratio = launcher_median / plain_median
    print(
        f"median: ansible-playbook {plain_median:.2f} s, runbook run {launcher_median:.2f} s; "
        f"ratio {ratio:.2f} (goal under {GOAL_RATIO:.2f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
