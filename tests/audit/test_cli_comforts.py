"""Exit codes that tell failure kinds apart, --quiet, --json on every audit command, and the help text."""

import json

import pytest


def test_exit_codes_tell_a_refused_record_from_a_blocked_push(scenario):
    assert scenario.results[1]["exit_code"] == 0
    assert scenario.results[2]["exit_code"] == 4  # F&O refused a record; the next run retries it
    assert "1 record(s) not written" in scenario.results[2]["output"]
    assert scenario.results[2]["json"]["failures"] and scenario.results[2]["json"]["targets"]  # summary still printed
    assert scenario.results[3]["exit_code"] == 3  # a failing check blocked the push
    assert "check accepted_values(CustomerGroupId) failed" in scenario.results[3]["output"]
    assert scenario.results[4]["exit_code"] == 3  # the retried record landed; the F&O user's edit still holds one back
    assert "1 record(s) held back by a conflict" in scenario.results[4]["output"]
    assert scenario.results[4]["json"]["targets"]  # the rest of the run was pushed and summarised
    assert scenario.cli("trace", "--profile", str(scenario.profile)).exit_code == 2  # missing arguments
    assert scenario.cli("runs", "show", "1", "--nope").exit_code == 2


def test_quiet_prints_only_errors_and_json(scenario):
    profile = str(scenario.profile)
    quiet = scenario.cli("--quiet", "status", "--profile", profile)
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")
    assert json.loads(scenario.cli("-q", "status", "--profile", profile, "--json").stdout)["runs"]
    failed = scenario.cli("-q", "runs", "show", "42", "--profile", profile)
    assert (failed.exit_code, failed.stdout) == (1, "")
    assert failed.stderr.startswith("error: run 42: not in p2c_meta.runs")


@pytest.mark.parametrize("command", [["status"], ["runs", "show"], ["trace"], ["prune"]])
def test_every_audit_command_has_json_and_help(scenario, command):
    result = scenario.cli(*command, "--help")
    assert result.exit_code == 0 and "--json" in result.stdout and "--profile" in result.stdout


def test_top_level_help_explains_the_day_and_the_exit_codes(scenario):
    text = " ".join(scenario.cli("--help").stdout.replace("│", " ").split())
    for command in ("status", "runs", "trace", "prune", "run"):
        assert f" {command} " in text
    assert "p2c trace ENTITY KEY" in text and "--quiet" in text
    assert "Exit codes: 0 done; 1 error" in text and "3 blocked" in text and "4 some records not written" in text


def test_audit_commands_on_a_database_without_runs(scenario):
    from tests.conftest import write_profile

    profile = write_profile(scenario.root / "fresh.toml", scenario.tenant, staging=scenario.root / "fresh.duckdb",
                            models=scenario.root / "models")
    assert scenario.json("status", profile=profile) == {"runs": [], "pending_retries": []}
    assert scenario.cli("status", "--profile", str(profile)).stdout == "no runs recorded yet: `p2c run` makes the first\n"
    assert scenario.json("prune", "--keep-runs", "3", profile=profile)["runs_removed"] == 0
    unknown = scenario.cli("runs", "show", "1", "--profile", str(profile))
    assert unknown.stderr.strip() == "error: run 1: not in p2c_meta.runs (no runs recorded yet)"


def test_quiet_silences_the_push_progress_of_a_run(tenant, cli, tmp_path, monkeypatch):
    from emulate.scenarios import edit_accounts
    from tests.conftest import SECRET_ENV, write_profile
    from tests.flows.conftest import flow_models

    monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
    profile = write_profile(tmp_path / "p.toml", tenant, staging=tmp_path / "s.duckdb",
                            models=flow_models(tmp_path / "models", "accounts"))
    quiet = cli("--quiet", "run", "--profile", str(profile), "--json")
    assert quiet.exit_code == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["targets"]["fno.CustomersV2"]["insert"] > 0  # it pushed, silently
    edit_accounts(tenant, 3, seed=5)
    loud = cli("run", "--profile", str(profile), "--json")
    assert loud.exit_code == 0 and "push     batch 1 sent" not in loud.stdout
    assert "push     batch" in loud.stderr and json.loads(loud.stdout)["targets"]  # progress on stderr, never stdout
