"""Bad input at the CLI: one line on stderr naming what is wrong, and a non-zero exit."""

import shutil
from pathlib import Path

import httpx
import pytest

from extract.errors import ServiceError
from extract.http import send
from extract.profile import PROJECT_DIR

from .conftest import SECRET_ENV, write_profile


def one_error_line(result) -> str:
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_unknown_profile(cli):
    line = one_error_line(cli("run", "--profile", "nosuchprofile"))
    assert "unknown profile 'nosuchprofile'" in line and "local" in line


def test_missing_secret_names_the_variable(cli, tenant, tmp_path, monkeypatch):
    monkeypatch.delenv("P2C_UNSET_SECRET", raising=False)
    profile = write_profile(tmp_path / "p.toml", tenant, staging=tmp_path / "s.duckdb", secret_env="P2C_UNSET_SECRET")
    line = one_error_line(cli("extract", "--profile", str(profile)))
    assert "environment variable P2C_UNSET_SECRET (the client secret) is not set" in line


def test_wrong_secret_is_refused_without_echoing_it(cli, tenant, tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    profile = write_profile(tmp_path / "p.toml", tenant, staging=tmp_path / "s.duckdb")
    line = one_error_line(cli("extract", "--profile", str(profile)))
    assert "token authority refused a token" in line and "not-the-secret" not in line


def test_unreachable_tenant(cli, tmp_path, monkeypatch):
    from emulate.tenant import EmulatedTenant

    with EmulatedTenant.start(tmp_path / "t", seed=1, scale=1) as stopped:
        pass  # its ports are closed once it stops
    monkeypatch.setenv(SECRET_ENV, stopped.client_secret)
    profile = write_profile(tmp_path / "p.toml", stopped, staging=tmp_path / "s.duckdb")
    line = one_error_line(cli("extract", "--profile", str(profile)))
    assert "cannot reach the token authority" in line and "connection refused" in line


def test_unreachable_service_is_one_line():
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client = httpx.Client(base_url="https://127.0.0.1:9", transport=httpx.MockTransport(refuse))
    with pytest.raises(ServiceError, match=r"^sales.accounts: cannot reach https://127.0.0.1:9 \(connection refused\)$"):
        send(client, "GET", "/api/data/v9.2/accounts", what="sales.accounts")


@pytest.fixture
def broken_models(tmp_path):
    models = tmp_path / "models"
    shutil.copytree(PROJECT_DIR / "models", models)
    return models


@pytest.mark.parametrize("edit, expected", [
    (lambda sql: sql.replace("from {{ ref('stg_sales__accounts') }}", "fromm {{ ref('stg_sales__accounts') }}"),
     "customers_from_accounts.sql:"),
    (lambda sql: sql.replace("ref('stg_sales__accounts')", "ref('stg_sales__acounts')"),
     "ref('stg_sales__acounts'): no model named 'stg_sales__acounts'"),
])
def test_broken_model_fails_the_build_naming_the_file(cli, tenant, profile, broken_models, tmp_path, edit, expected):
    flow = broken_models / "flows" / "customers_from_accounts.sql"
    flow.write_text(edit(flow.read_text()))
    broken = write_profile(tmp_path / "broken.toml", tenant, staging=tmp_path / "staging.duckdb", models=broken_models)
    line = one_error_line(cli("build", "--profile", str(broken)))
    assert expected in line and str(flow) in line


def test_push_without_a_plan(cli, profile):
    line = one_error_line(cli("push", "--profile", str(profile)))
    assert "no plan waiting to be pushed" in line


def test_debug_shows_the_traceback(cli):
    from extract.errors import ProfileError

    with pytest.raises(ProfileError, match="unknown profile"):
        cli("--debug", "run", "--profile", "nosuchprofile")


def test_summary_lines_are_coloured_by_what_they_report():
    from audit.summaries import colour

    assert colour("push     fno.CustomersV2   227 insert  0 update  0 conflict  0 failed") == "green"
    assert colour("push     fno.CustomersV2   1 insert  0 update  1 conflict  0 failed") == "yellow"
    assert colour("push     fno.CustomersV2   1 insert  0 update  0 conflict  2 failed") == "red"
    assert colour("plan     skipped customers: last build check_failed") == "red"
    assert colour("extract  sales.accounts   5 rows  0 new  0 changed") is None
