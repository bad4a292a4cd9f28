"""Each alert role's molecule scenario on its own sandbox: fault injected, check mode changes
nothing, converge cures it, a second converge changes nothing, verify checks the cure."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

COLLECTION_ROOT = Path(__file__).resolve().parents[2]  # the repository

EXTENSIONS = COLLECTION_ROOT / "extensions"
SCENARIOS = sorted(
    p.parent.name
    for p in (EXTENSIONS / "molecule").glob("*/molecule.yml")
    if p.parent.name != "shared"
)

pytestmark = [
    pytest.mark.k8s,
    pytest.mark.integration,
    # The scenarios inject faults through the sandbox, which a real cluster cannot do.
    pytest.mark.skipif(
        bool(os.environ.get("SRE_RUNBOOKS_TEST_KUBECONFIG")),
        reason="molecule scenarios inject their faults in the sandbox only",
    ),
]


def test_every_alert_role_has_a_scenario():
    roles = {p.name for p in (COLLECTION_ROOT / "roles").iterdir() if p.is_dir()}
    assert set(SCENARIOS) == roles - {"remediation"}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario, tmp_path):
    bin_dir = Path(sys.executable).parent
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(COLLECTION_ROOT / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTION_ROOT / ".collections"),
        # Each scenario's ephemeral directory (and sandbox) under this test's own temp dir.
        MOLECULE_EPHEMERAL_DIRECTORY=str(tmp_path / "molecule"),
        PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
        NO_COLOR="1",
    )
    done = subprocess.run(
        [str(bin_dir / "molecule"), "test", "-s", scenario],
        cwd=EXTENSIONS,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"molecule test -s {scenario} failed:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
        )
