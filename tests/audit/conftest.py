"""A staging database with a story: four real `p2c run`s against the emulated tenant, users editing
both sides in between, a conflict held back, a record F&O refuses, a failing check and the retry.

The models project is small (Canadian Sales accounts → F&O customers, the customer group from an
analysts' value map) so the four runs take seconds. Built once per session, read by every test in
tests/audit; the tests that change the database (prune) work on a copy.
"""

from __future__ import annotations

import json
import shutil
import ssl
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import httpx
import pytest
from typer.testing import CliRunner

import p2c
from emulate.scenario_client import SalesUser
from emulate.tenant import EmulatedTenant
from tests.conftest import SECRET_ENV, write_profile

SOURCES = """
[sales.accounts]
key = ["accountid"]
incremental = "change_tracking"
[sales.accounts.columns]
accountid = "VARCHAR"
accountnumber = "VARCHAR"
name = "VARCHAR"
address1_city = "VARCHAR"
address1_country = "VARCHAR"
telephone1 = "VARCHAR"
statecode = "INTEGER"

[fno.CustomersV2]
key = ["dataAreaId", "CustomerAccount"]
incremental = "full"
[fno.CustomersV2.columns]
dataAreaId = "VARCHAR"
CustomerAccount = "VARCHAR"
OrganizationName = "VARCHAR"
PartyType = "VARCHAR"
CustomerGroupId = "VARCHAR"
AddressCity = "VARCHAR"
PrimaryContactPhone = "VARCHAR"
"""

CUSTOMERS = """{{ config(
    flow="accounts",
    description="Active Sales accounts of the countries the analysts mapped, as F&O customers.",
    target={"system": "fno", "entity": "CustomersV2", "key": ["dataAreaId", "CustomerAccount"], "on_conflict": "block"},
    checks=[{"accepted_values": {"column": "CustomerGroupId", "values": ["", "20", "30"]}}],
) }}
select
    {{ var('fno_company') }}             as dataAreaId,
    a.accountnumber                      as CustomerAccount,
    coalesce(a.name, '')                 as OrganizationName,
    'Organization'                       as PartyType,
    g.target_value                       as CustomerGroupId,
    coalesce(a.address1_city, '')        as AddressCity,
    coalesce(a.telephone1, '')           as PrimaryContactPhone
from {{ source('sales', 'accounts') }} as a
join seeds.customer_groups as g on g.source_value = lower(a.address1_country)
where a.statecode = 0 and not a._p2c_deleted
"""


def groups_seed(antarctica: str) -> str:
    return f"source_value,target_value\ncanada,20\nantarctica,{antarctica}\n"


@dataclass
class Scenario:
    """What happened, for the tests to check the audit commands against."""

    root: Path
    tenant: EmulatedTenant
    profile: Path
    staging: Path
    results: dict[int, dict] = field(default_factory=dict)   # run number → {"exit_code", "json" or "output"}
    snapshots: dict[int, Path] = field(default_factory=dict)  # staging database as it was after run N
    edited: str = ""      # Sales account whose phone a Sales user changed (an update in run 2)
    conflicted: str = ""  # city changed on both sides (a conflict, held back by on_conflict = block)
    refused: str = ""     # a new Antarctic account: its blank customer group makes F&O refuse it in run 2
    deactivated: str = ""  # an account deactivated before run 4: the model drops it, its customer stays in F&O
    runner: CliRunner = field(default_factory=CliRunner)

    def cli(self, *args: str):
        return self.runner.invoke(p2c.app, list(args), catch_exceptions=False)

    def json(self, *args: str, profile: Path | None = None):
        result = self.cli(*args, "--profile", str(profile or self.profile), "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def query(self, sql: str, params: list | None = None, staging: Path | None = None) -> list[tuple]:
        with duckdb.connect(str(staging or self.staging), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def copy(self, name: str, run: int | None = None) -> Path:
        """A profile on a copy of the staging database (the final one, or as after run ``run``)."""
        staging = self.root / f"{name}.duckdb"
        shutil.copy(self.snapshots[run] if run else self.staging, staging)
        return write_profile(self.root / f"{name}.toml", self.tenant, staging=staging, models=self.root / "models")

    def run(self, number: int) -> dict:
        result = self.cli("run", "--profile", str(self.profile), "--json")
        self.results[number] = {"exit_code": result.exit_code, "output": result.output}
        if result.stdout.startswith("{"):  # the run's summary, printed before a blocked run's exit code
            self.results[number]["json"] = json.loads(result.stdout)
        self.snapshots[number] = self.root / f"after-run-{number}.duckdb"
        shutil.copy(self.staging, self.snapshots[number])
        return self.results[number]


def _project(root: Path) -> Path:
    models = root / "models"
    for folder in ("sources", "flows", "seeds"):
        (models / folder).mkdir(parents=True)
    (models / "project.toml").write_text('[vars]\nfno_company = "usmf"\n')
    (models / "sources" / "accounts.toml").write_text(SOURCES)
    (models / "flows" / "customers.sql").write_text(CUSTOMERS)
    (models / "seeds" / "customer_groups.csv").write_text(groups_seed(""))
    return models


def _edit_customer(tenant, account: str, **values) -> None:
    """An F&O user changes a customer (PATCH through OData, signed in as F&O's own clients are)."""
    context = ssl.create_default_context(cafile=str(tenant.ca_file))
    token = httpx.post(f"{tenant.authority_url}/oauth2/v2.0/token", verify=context, data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
        "scope": f"{tenant.fno_url}/.default"}).json()["access_token"]
    with httpx.Client(base_url=f"{tenant.fno_url}/data/", verify=context, timeout=30,
                      headers={"Authorization": f"Bearer {token}", "OData-Version": "4.0"}) as fno:
        response = fno.patch(f"CustomersV2(dataAreaId='usmf',CustomerAccount='{account}')",
                             params={"cross-company": "true"}, json=values)
        assert response.status_code == 204, response.text


@pytest.fixture(scope="session")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("audit")
    models = _project(root)
    with EmulatedTenant.start(root / "tenant", seed=7, scale=1) as tenant, pytest.MonkeyPatch.context() as patch:
        patch.setenv(SECRET_ENV, tenant.client_secret)
        staging = root / "staging.duckdb"
        story = Scenario(root, tenant, write_profile(root / "profile.toml", tenant, staging=staging, models=models), staging)
        canadian = sorted((a["accountnumber"], a["accountid"]) for a in tenant.sales.rows("accounts")
                          if a["statecode"] == 0 and a["address1_country"] == "Canada")
        assert len(canadian) >= 3
        assert story.run(1)["exit_code"] == 0

        # between runs 1 and 2: a Sales user edits two accounts, an F&O user one of the same customers,
        # and a new Antarctic account is entered in Sales
        (story.edited, edited_id), (story.conflicted, conflicted_id) = canadian[0], canadian[1]
        with SalesUser(tenant) as user:
            user.update("accounts", edited_id, {"telephone1": "+1-555-010-0001"})
            user.update("accounts", conflicted_id, {"address1_city": "Whitehorse"})
            refused_id = user.create("accounts", {"name": "Polar Logistics", "address1_country": "Antarctica",
                                                  "address1_city": "McMurdo", "telephone1": "+1-555-010-0002"})
        story.refused = next(a["accountnumber"] for a in tenant.sales.rows("accounts") if a["accountid"] == refused_id)
        _edit_customer(tenant, story.conflicted, AddressCity="Edited in F&O")
        story.run(2)  # the update lands, the conflict is held back, F&O refuses the blank customer group

        # an analyst maps Antarctica, with a typo: the check fails and nothing is pushed
        (models / "seeds" / "customer_groups.csv").write_text(groups_seed("99"))
        story.run(3)
        (models / "seeds" / "customer_groups.csv").write_text(groups_seed("30"))
        story.deactivated, deactivated_id = canadian[2]
        with SalesUser(tenant) as user:
            user.update("accounts", deactivated_id, {"statecode": 1, "statuscode": 2})
        story.run(4)  # the refused record is sent again and lands
        yield story
