"""ansible-doc is the manual: every module and lookup of the collection renders in full."""

from pathlib import Path

import pytest

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"
DOCUMENTED = [
    (plugin_type, f"sre.runbooks.{path.stem}")
    for plugin_type, folder, pattern in (
        ("module", "modules", "*.py"),
        ("lookup", "lookup", "*.py"),
        ("filter", "filter", "*.yml"),  # a filter's documentation is the YAML file of its name
    )
    for path in sorted((PLUGINS / folder).glob(pattern))
]


def test_every_plugin_folder_is_scanned():
    assert {t for t, _ in DOCUMENTED} == {"module", "lookup", "filter"}


@pytest.mark.parametrize(("plugin_type", "name"), DOCUMENTED)
def test_ansible_doc_renders_options_examples_and_return_values(plugin_type, name, ansible_cli):
    completed = ansible_cli("ansible-doc", "-t", plugin_type, name)
    assert completed.returncode == 0, completed.stderr
    assert name in completed.stdout
    assert "EXAMPLES" in completed.stdout
    assert "RETURN VALUES" in completed.stdout
    assert "[WARNING]" not in completed.stderr
