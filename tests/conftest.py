"""Shared fixtures: an emulated tenant over real HTTPS, and profiles pointing at it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

import p2c
from extract import profile as profile_module
from extract.profile import PROJECT_DIR, Endpoints
from emulate.tenant import EmulatedTenant

SECRET_ENV = "P2C_TEST_CLIENT_SECRET"


@pytest.fixture
def tenant(tmp_path):
    with EmulatedTenant.start(tmp_path / "tenant", seed=7, scale=1) as tenant:
        yield tenant


def write_profile(path: Path, tenant, *, staging: Path, models: Path | None = None, secret_env: str = SECRET_ENV) -> Path:
    """A profile for a served tenant, as `p2c emulate --profile-out` writes one."""
    endpoints = Endpoints.of_tenant(tenant, secret_env)
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


@dataclass
class Served:
    """A `p2c emulate` process and what it printed: URLs, CA file, client id and secret."""

    process: subprocess.Popen
    output: str
    authority: str
    sales: str  # the Web API root, …/api/data/v9.2/
    ca: str
    client_id: str
    secret: str

    @property
    def sales_origin(self) -> str:
        return self.sales.split("/api/")[0]

    def token(self, http: httpx.Client, origin: str) -> str:
        return http.post(f"{self.authority}/oauth2/v2.0/token", data={
            "grant_type": "client_credentials", "client_id": self.client_id, "client_secret": self.secret,
            "scope": f"{origin}/.default"}).json()["access_token"]

    def stop(self) -> int:
        """Ctrl+C, as a user stops it; returns the exit code."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


_PRINTED = {"authority": r"Token authority: (\S+)", "sales": r"Sales \(Dataverse\): (\S+)", "ca": r"CA certificate: (\S+)",
            "client_id": r"Client id: (\S+)", "secret": r"export P2C_EMULATED_CLIENT_SECRET='([^']+)'"}


@pytest.fixture
def served_tenant():
    """Start `p2c emulate` in its own process (writing a profile next to its state) and wait until it serves."""
    started: list[subprocess.Popen] = []

    def serve(state_dir: Path, *options: str) -> Served:
        process = subprocess.Popen(
            [sys.executable, "-m", "p2c", "emulate", "--state-dir", str(state_dir),
             "--profile-out", str(state_dir.parent / f"{state_dir.name}.toml"), *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=PROJECT_DIR,
        )
        started.append(process)
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (lines and lines[-1].startswith("Serving")):
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        output = "".join(lines)
        assert lines and lines[-1].startswith("Serving"), output + process.stderr.read()
        return Served(process, output, **{name: re.search(p, output).group(1) for name, p in _PRINTED.items()})

    yield serve
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()
