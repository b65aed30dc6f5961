"""Shared fixtures: an emulated tenant over real HTTPS, and profiles pointing at it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import p2c
from extract import profile as profile_module
from extract.profile import Endpoints
from emulate.tenant import EmulatedTenant

SECRET_ENV = "P2C_TEST_CLIENT_SECRET"


@pytest.fixture
def tenant(tmp_path):
    with EmulatedTenant.start(tmp_path / "tenant", seed=7, scale=1) as tenant:
        yield tenant


def write_profile(path: Path, tenant, *, staging: Path, models: Path | None = None, secret_env: str = SECRET_ENV) -> Path:
    """A profile for a served tenant, as `p2c emulate --profile-out` writes one."""
    endpoints = Endpoints(tenant.authority_url, tenant.client_id, secret_env, tenant.sales_url, tenant.fno_url, tenant.ca_file)
    return profile_module.write_profile(path, staging_database=staging, endpoints=endpoints, models_dir=models)


@pytest.fixture
def profile(tmp_path, tenant, monkeypatch) -> Path:
    monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
    return write_profile(tmp_path / "profile.toml", tenant, staging=tmp_path / "staging.duckdb")


class Cli:
    """Runs p2c commands in-process, as a user would type them."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str):
        return self.runner.invoke(p2c.app, list(args), catch_exceptions=False)


@pytest.fixture
def cli() -> Cli:
    return Cli()
