"""`runbook list` and `runbook explain` read the alert catalog and the rules."""

import json

import pytest

from sre_runbooks import catalog, cli
from sre_runbooks.catalog import load_catalog


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_json_contains_every_catalog_entry(capsys):
    code, out, _ = run(capsys, "list", "--json")
    assert code == cli.EXIT_OK
    listed = json.loads(out)
    assert {(item["alert"], item["system"]) for item in listed} == {
        entry.key for entry in load_catalog()
    }
    assert len(listed) == len(load_catalog())
    for item in listed:
        assert {"alert", "system", "severity", "role", "aliases", "escalation"} <= set(item)
    cache = next(item for item in listed if item["alert"] == "CacheHitRateLow")
    assert cache["aliases"] == ["CacheHitRatelow"]


def test_list_filters_by_system_and_severity(capsys):
    _, out, _ = run(capsys, "list", "--json", "--system", "bolt")
    assert {item["system"] for item in json.loads(out)} == {"bolt"}
    assert len(json.loads(out)) == 8
    _, out, _ = run(capsys, "list", "--json", "--severity", "info")
    assert [item["alert"] for item in json.loads(out)] == [
        "PodRestart",
        "SlowQueries",
        "CacheHitRateLow",
    ]
    _, out, _ = run(capsys, "list", "--json", "--system", "api-optimizer", "--severity", "warning")
    assert [item["alert"] for item in json.loads(out)] == ["HighLatency", "LowCacheHitRatio"]


def test_list_prints_a_table(capsys):
    code, out, _ = run(capsys, "list", "--system", "nimify")
    assert code == cli.EXIT_OK
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["alert", "system", "severity", "seed", "role"]
    assert len(lines) == 1 + 11
    assert any(
        "GPUUnavailable" in line and "nvidia-device-plugin-daemonset" in line for line in lines
    )


def test_list_unknown_system_is_bad_input(capsys):
    code, _, err = run(capsys, "list", "--system", "nimfy")
    assert code == cli.EXIT_BAD_INPUT
    assert "unknown system 'nimfy'" in err
    assert "nimify" in err


def test_list_unknown_severity_is_refused_by_argparse(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["list", "--severity", "page"])
    assert caught.value.code == 2


def test_explain_shows_promql_escalation_and_target(capsys):
    code, out, _ = run(capsys, "explain", "HighErrorRate", "--system", "nimify")
    assert code == cli.EXIT_OK
    assert "HighErrorRate (nimify)" in out
    assert (
        'rate(http_requests_total{job="nimify-api", namespace="nimify-system", status=~"5.."}'
        in out
    )
    assert "for 2m" in out
    assert "after  10m  Engineering team lead" in out
    assert "Deployment nimify-system/nimify-api" in out
    assert "5xx > 5%" in out
    assert "role not yet available" not in out
    assert "rollback (rollout_undo): The current template rolled out" in out
    assert "high_error_rate_rollout_window_seconds (int) = 1800" in out
    assert "api-optimizer" not in out


def test_explain_says_when_the_role_serves_another_system(capsys):
    code, out, _ = run(capsys, "explain", "HighErrorRate", "--system", "api-optimizer")
    assert code == cli.EXIT_OK
    assert "role:        high_error_rate  (role not yet available)" in out
    assert "mitigations" not in out


def test_explain_json(capsys):
    code, out, _ = run(capsys, "explain", "HighErrorRate", "--system", "nimify", "--json")
    assert code == cli.EXIT_OK
    (item,) = json.loads(out)
    assert item["role"] == "high_error_rate"
    assert item["escalation"] == [{"after": "10m", "to": "Engineering team lead"}]
    assert item["rules"][0]["for"] == "2m"
    assert "http_requests_total" in item["rules"][0]["expr"]
    assert item["role_available"] is True
    assert item["role_options"]["high_error_rate_scale_replicas"]["default"] == 5
    assert [m["action"] for m in item["mitigations"]] == [
        "rollback",
        "restart_leaking_pods",
        "scale_up",
        "restart_dependency",
    ]
    assert [p.split(":")[0] for p in item["phases"]] == [
        "assess",
        "guard",
        "investigate",
        "decide",
        "mitigate",
        "verify",
        "report",
    ]


def test_explain_shared_name_without_system_shows_every_system(capsys):
    _, out, _ = run(capsys, "explain", "HighLatency", "--json")
    systems = [item["system"] for item in json.loads(out)]
    assert systems == ["nimify", "api-optimizer", "service-template"]
    api = json.loads(out)[1]
    assert [rule["severity"] for rule in api["rules"]] == ["critical", "warning"]


def test_explain_by_namespace_resolves_the_template_and_its_target(capsys):
    _, out, _ = run(capsys, "explain", "HighErrorRate", "--namespace", "shop", "--json")
    (item,) = json.loads(out)
    assert item["system"] == "service-template"
    code, out, _ = run(capsys, "explain", "HighErrorRate", "--namespace", "api-optimizer")
    assert code == cli.EXIT_OK
    assert "HighErrorRate (api-optimizer)" in out


def test_explain_accepts_the_seed_alias(capsys):
    code, out, _ = run(capsys, "explain", "CacheHitRatelow")
    assert code == cli.EXIT_OK
    assert "CacheHitRateLow (nimify)" in out


def test_explain_unknown_alert_exits_2_with_suggestions(capsys):
    code, out, err = run(capsys, "explain", "HighErorRate")
    assert code == cli.EXIT_BAD_INPUT
    assert out == ""
    assert "unknown alert 'HighErorRate'" in err
    assert "Did you mean: HighErrorRate" in err
    assert "Known alerts:" in err
    assert "BoltMemoryUsageHigh" in err


def test_explain_unresolvable_labels_exit_2(capsys):
    code, _, err = run(capsys, "explain", "HighErrorRate", "--system", "bolt")
    assert code == cli.EXIT_BAD_INPUT
    assert "no entry for system 'bolt'" in err


@pytest.mark.parametrize("namespace", ["Shop", "a;b", "$(id)", "-x", "a" * 64])
def test_explain_refuses_invalid_namespace(capsys, namespace):
    with pytest.raises(SystemExit) as caught:
        cli.main(["explain", "HighErrorRate", f"--namespace={namespace}"])
    assert caught.value.code == 2
    assert "namespace name" in capsys.readouterr().err


def test_explain_shows_role_options_when_the_role_exists(capsys, tmp_path, monkeypatch):
    meta = tmp_path / "high_error_rate" / "meta"
    meta.mkdir(parents=True)
    (tmp_path / "high_error_rate" / "tasks").mkdir()
    (tmp_path / "high_error_rate" / "tasks" / "main.yml").write_text(
        "---\n- ansible.builtin.include_role: {name: sre.runbooks.remediation}\n"
        "  vars: {remediation_system: nimify}\n"
    )
    (meta / "argument_specs.yml").write_text(
        "---\nargument_specs:\n  main:\n    short_description: x\n    options:\n"
        "      high_error_rate_threshold:\n        type: float\n        default: 0.05\n"
    )
    monkeypatch.setattr(catalog, "default_roles_dir", lambda: tmp_path)
    code, out, _ = run(capsys, "explain", "HighErrorRate", "--system", "nimify")
    assert code == cli.EXIT_OK
    assert "role not yet available" not in out
    assert "high_error_rate_threshold (float) = 0.05" in out


def test_invalid_catalog_exits_1(capsys, tmp_path, monkeypatch):
    broken = tmp_path / "alert_catalog.yml"
    broken.write_text("---\nalert_catalog: [{alert: X}]\n")
    real = catalog.load_catalog
    monkeypatch.setattr(cli, "load_catalog", lambda path=broken: real(path))
    code, _, err = run(capsys, "list")
    assert code == cli.EXIT_FAILED
    assert "field 'aliases': is required" in err


def test_monitoring_subcommand_is_unchanged():
    parser = cli.build_parser()
    args = parser.parse_args(["monitoring", "status", "--json"])
    assert args.handler is cli._monitoring
    assert args.action == "status"
