"""Fixtures for the per-flow end-to-end tests: the project's own models, limited to chosen flows.

Each test syncs the emulated tenant (tests/conftest.py `tenant`, seed 7, scale 1) with a copy of
`models/` holding only the flows it is about (and the flows they depend on), so a flow is
tested against the real source, seed and model files without the other flows' writes.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from extract.profile import PROJECT_DIR

from tests.conftest import SECRET_ENV, write_profile

MODELS = PROJECT_DIR / "models"
# The lookups every document flow (quotes, orders, invoices) reads.
DOCUMENT_STAGING = ("staging/stg_sales__document_customers.sql", "staging/stg_sales__document_products.sql",
                    "staging/stg_sales__document_units.sql", "staging/stg_fno__document_customers.sql")

# What each flow needs besides seeds and project.toml: source files and models (staging + flows).
FLOW_FILES = {
    "accounts": ("sources/accounts.toml", "staging/stg_sales__accounts.sql", "staging/stg_sales__transactioncurrencies.sql",
                 "flows/customers_from_accounts.sql"),
    "contacts": ("sources/contacts.toml", "staging/stg_sales__contacts.sql", "staging/stg_fno__customers.sql",
                 "staging/stg_sales__contact_routes.sql", "flows/contact_persons_from_contacts.sql",
                 "flows/customers_from_contacts.sql"),
    "products": ("sources/products.toml", "staging/stg_fno__sellable_products.sql", "staging/stg_sales__products.sql",
                 "staging/stg_sales__units.sql", "staging/stg_sales__price_lists.sql",
                 "flows/products_from_released_products.sql", "flows/price_list_items_from_released_products.sql"),
}
DEPENDS = {"accounts": (), "contacts": ("accounts",), "products": ("accounts",)}  # products read currencies (accounts.toml)


def flow_models(destination: Path, *flows: str) -> Path:
    """A models folder with the project's seeds, project.toml and the files of ``flows`` (and their dependencies)."""
    wanted = set(flows) | {d for f in flows for d in DEPENDS[f]}
    shutil.copytree(MODELS / "seeds", destination / "seeds")
    shutil.copy(MODELS / "project.toml", destination / "project.toml")
    for flow in sorted(wanted):
        for name in FLOW_FILES[flow]:
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(MODELS / name, destination / name)
    if "accounts" not in flows:  # a dependency only: its sources are read, its customers not written
        (destination / "flows" / "customers_from_accounts.sql").unlink()
    return destination


class FlowRun:
    """`p2c run` with a profile on the emulated tenant and a models folder of chosen flows."""

    def __init__(self, cli, tenant, tmp_path: Path, monkeypatch, *flows: str) -> None:
        monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
        self.cli = cli
        self.staging = tmp_path / "staging.duckdb"
        self.models = flow_models(tmp_path / "models", *flows)  # a copy: a test may edit its seeds
        self.profile = write_profile(tmp_path / "profile.toml", tenant, staging=self.staging, models=self.models)

    def __call__(self, *, exit_code: int = 0) -> dict:
        result = self.cli("run", "--profile", str(self.profile), "--json")
        assert result.exit_code == exit_code, result.output
        if exit_code == 0:
            return json.loads(result.stdout)
        # a blocked run still prints its summary (what it did push) before the error line and exit code
        summary = json.loads(result.stdout) if result.stdout.startswith("{") else {}
        return {**summary, "output": result.output, "stderr": result.stderr}

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        """Rows of a query on the staging database, as an auditor would run it."""
        with duckdb.connect(str(self.staging), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def writes(self, run: dict) -> int:
        return self.query("select count(*) from p2c_meta.push_log where run_id = ?", [run["run_id"]])[0][0]


def add_models(run: FlowRun, files) -> None:
    """Put more of the project's own model files next to the flows ``flow_run`` copied."""
    for name in files:
        (run.models / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(MODELS / name, run.models / name)


def writes_to(run: FlowRun, result: dict, entities) -> int:
    """How many records a run wrote to ``entities`` (entity set names), from push_log."""
    rows = run.query("select entity, count(*) from p2c_meta.push_log where run_id = ? group by entity", [result["run_id"]])
    return sum(count for entity, count in rows if entity in entities)


def no_failures(result: dict) -> None:
    failed = {e: c["failed"] for e, c in result["targets"].items() if c.get("failed")}
    assert not failed, failed


def money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


@pytest.fixture
def flow_run(cli, tenant, tmp_path, monkeypatch):
    """``flow_run("contacts")`` → a FlowRun; call it for each `p2c run`."""
    return lambda *flows: FlowRun(cli, tenant, tmp_path, monkeypatch, *flows)
