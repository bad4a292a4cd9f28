"""Each alert role's molecule scenario: fault injected, check mode changes nothing, converge cures
it, a second converge changes nothing, verify checks the cure.

The scenarios share sandboxes: each pytest worker (the session, without xdist) starts one, owned
by the worker (`SRE_RUNBOOKS_SANDBOX_OWNER`, so it stops even if the worker is killed) and
stopped when the session ends; every scenario's create resets it (`runbook sandbox reset`) before
injecting its fault. A scenario runs in a session of its own: whatever ends it (success, failure,
pytest-timeout, Ctrl-C, SIGTERM, a killed molecule), molecule and the playbooks it runs are
stopped before the test ends."""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sre_runbooks.monitoring.servers import pid_alive, process_start
from sre_runbooks_sandbox import control

COLLECTION_ROOT = Path(__file__).resolve().parents[2]  # the repository

EXTENSIONS = COLLECTION_ROOT / "extensions"
SCENARIOS = sorted(
    p.parent.name
    for p in (EXTENSIONS / "molecule").glob("*/molecule.yml")
    if p.parent.name != "shared"
)
STOP_GRACE = 10.0  # seconds between SIGTERM and SIGKILL for what a scenario still runs

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.integration,
    # The scenarios inject faults through the sandbox, which a real cluster cannot do.
    pytest.mark.skipif(
        bool(os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG")),
        reason="molecule scenarios inject their faults in the sandbox only",
    ),
]


@pytest.fixture(autouse=True, scope="session")
def _sigterm_interrupts() -> Iterator[None]:
    """A run stopped with SIGTERM (e.g. by `timeout`) tears down like Ctrl-C, not at once.

    Session-wide, so it is in place before the shared sandbox starts and until it has stopped.
    """

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def shared_sandbox(
    _sigterm_interrupts: None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Path]:
    """The state directory of this worker's sandbox, which its scenarios share.

    This process owns it: should the worker die before the teardown, the sandbox's watchdog
    stops it.
    """
    state_dir = tmp_path_factory.mktemp("shared-sandbox") / "sandbox"
    try:
        _sandbox_up(state_dir)
        yield state_dir
    finally:
        control.down(state_dir)


def _sandbox_up(state_dir: Path) -> None:
    """Start the sandbox in ``state_dir``, owned by this process (a no-op when it runs)."""
    env = dict(os.environ, **{control.OWNER_ENV: str(os.getpid())})
    argv = [sys.executable, "-m", "sre_runbooks", "sandbox", "up", "--state-dir", str(state_dir)]
    started = subprocess.run(
        argv, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert started.returncode == 0, f"sandbox up failed:\n{started.stdout}{started.stderr}"


@pytest.fixture
def sandbox(shared_sandbox: Path) -> Path:
    """The shared sandbox, started again if it no longer runs, so one crash fails one scenario."""
    if not control.status(shared_sandbox)["running"]:
        _sandbox_up(shared_sandbox)
    return shared_sandbox


def _descendants(pid: int) -> dict[int, int | None]:
    """The processes below ``pid`` (children, theirs, ...), each with its start time."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit():
                stat = (entry / "stat").read_text().rsplit(")", 1)[-1].split()
                parents[int(entry.name)] = int(stat[1])
    found: dict[int, int | None] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child in [c for c, p in parents.items() if p == parent and c not in found]:
            found[child] = process_start(child)
            todo.append(child)
    return found


def _stop_scenario(process: subprocess.Popen[bytes]) -> None:
    """Stop molecule and everything below it: SIGTERM, then SIGKILL what is left.

    Ansible runs its workers in sessions of their own, so the tree is taken before molecule goes
    (its orphans are re-parented) and signalled process by process, each checked by start time.
    """
    tree = {process.pid: process_start(process.pid), **_descendants(process.pid)}
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid, started in tree.items():
            if pid_alive(pid, started=started):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + STOP_GRACE
        while time.monotonic() < deadline and any(
            pid_alive(pid, started=started) for pid, started in tree.items()
        ):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.1)
    process.wait()


@contextlib.contextmanager
def molecule_test(
    scenario: str, tmp_path: Path, sandbox: Path, extensions: Path = EXTENSIONS
) -> Iterator[subprocess.Popen[bytes]]:
    """`molecule test -s SCENARIO` on the running ``sandbox`` (its state directory) in the
    background, its output in ``tmp_path/molecule.log``.

    Leaving the block, by any way, stops what the scenario still runs; the sandbox keeps
    running for the next scenario, which resets it.
    """
    bin_dir = Path(sys.executable).parent
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(COLLECTION_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTION_ROOT / ".collections"),
        # Each scenario's ephemeral directory under this test's own temp dir.
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "molecule"),
        SRE_RUNBOOKS_MOLECULE_SANDBOX=str(sandbox),
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
    )
    env.pop(control.OWNER_ENV, None)
    argv = [str(bin_dir / "molecule"), "test", "-s", scenario]
    with (tmp_path / "molecule.log").open("wb") as log:
        process = subprocess.Popen(
            argv,
            cwd=extensions,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield process
    finally:
        _stop_scenario(process)


def _tail(path: Path, chars: int = 20000) -> str:
    return path.read_text(errors="replace")[-chars:]


def test_every_alert_role_has_a_scenario():
    roles = {p.name for p in (COLLECTION_ROOT / "roles").iterdir() if p.is_dir()}
    assert set(SCENARIOS) == roles - {"remediation"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, tmp_path, sandbox):
    with molecule_test(scenario, tmp_path, sandbox) as process:
        returncode = process.wait(timeout=900)
    if returncode != 0:
        pytest.fail(f"molecule test -s {scenario} failed:\n{_tail(tmp_path / 'molecule.log')}")


class Interrupted(Exception):
    """Stands for what ends a scenario early: pytest-timeout's failure, Ctrl-C, SIGTERM."""


def _interrupted_scenario(extensions: Path) -> Path:
    """A scenario with the shared create and destroy whose converge outlasts any deadline."""
    shared = EXTENSIONS / "molecule" / "shared"
    scenario = extensions / "molecule" / "interrupted"
    scenario.mkdir(parents=True)
    molecule = {
        "ansible": {
            "executor": {
                "backend": "ansible-playbook",
                "args": {"ansible_playbook": [f"--inventory={shared / 'inventory.yml'}"]},
            },
            "playbooks": {
                "create": str(shared / "create.yml"),
                "converge": "converge.yml",
                "destroy": str(shared / "destroy.yml"),
            },
        },
        "scenario": {"name": "interrupted", "test_sequence": ["create", "converge", "destroy"]},
    }
    converge = [
        {
            "name": "Converge that outlasts its deadline",
            "hosts": "all",
            "gather_facts": False,
            "tasks": [
                {"name": "Work on", "ansible.builtin.command": "sleep 600", "changed_when": False},
            ],
        }
    ]
    fault = {"scenario_alert": "ServiceDown", "scenario_system": "nimify", "scenario_watch": []}
    # JSON is YAML.
    (scenario / "molecule.yml").write_text(json.dumps(molecule))
    (scenario / "converge.yml").write_text(json.dumps(converge))
    (scenario / "scenario.yml").write_text(json.dumps(fault))
    return extensions


def test_an_interrupted_scenario_leaves_nothing_running(tmp_path, shared_sandbox):
    """Molecule and all below it stop; the shared sandbox, owned by this worker, runs on."""
    extensions = _interrupted_scenario(tmp_path / "extensions")
    running: dict[str, tuple[int, int | None]] = {}
    with (
        pytest.raises(Interrupted),
        molecule_test("interrupted", tmp_path, shared_sandbox, extensions) as process,
    ):
        deadline = time.monotonic() + 240
        while True:
            below = _descendants(process.pid)
            if any(pid_alive(pid, "sleep 600", started) for pid, started in below.items()):
                break  # the converge works
            assert process.poll() is None, _tail(tmp_path / "molecule.log")
            assert time.monotonic() < deadline, "the scenario did not reach its converge"
            time.sleep(0.5)
        state = json.loads((shared_sandbox / control.STATE_FILE).read_text())
        sandbox = {
            name: (int(entry["pid"]), entry.get("started"))
            for name, entry in state.items()
            if isinstance(entry, dict) and "pid" in entry
        }
        assert set(sandbox) == {"simulator", "prometheus", "alertmanager", "watchdog"}
        assert state["watchdog"]["owner"] == os.getpid()
        assert not set(below) & {pid for pid, _ in sandbox.values()}
        running |= {f"molecule ({process.pid})": (process.pid, process_start(process.pid))}
        running |= {f"below molecule ({pid})": (pid, started) for pid, started in below.items()}
        raise Interrupted
    left = [name for name, (pid, started) in running.items() if pid_alive(pid, started=started)]
    assert left == []
    assert control.status(shared_sandbox)["running"]
