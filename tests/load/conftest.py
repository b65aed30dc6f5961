"""A small models project of the load tests' own (F&O customers and orders, Sales accounts from seeds),
and helpers to change either service as its users would."""

from __future__ import annotations

import csv
import json
import ssl
from pathlib import Path

import duckdb
import httpx
import pytest

from tests.conftest import SECRET_ENV, write_profile

SOURCES = """
[sales.accounts]
key = ["accountid"]
incremental = "full"
[sales.accounts.columns]
accountid = "VARCHAR"
accountnumber = "VARCHAR"
name = "VARCHAR"
telephone1 = "VARCHAR"
versionnumber = "BIGINT"

[fno.CustomersV2]
key = ["dataAreaId", "CustomerAccount"]
incremental = "full"
[fno.CustomersV2.columns]
dataAreaId = "VARCHAR"
CustomerAccount = "VARCHAR"
OrganizationName = "VARCHAR"
PartyType = "VARCHAR"
CustomerGroupId = "VARCHAR"
SalesCurrencyCode = "VARCHAR"
AddressCity = "VARCHAR"

[fno.CDSSalesOrderHeaders]
key = ["dataAreaId", "SalesOrderNumber"]
incremental = "full"
[fno.CDSSalesOrderHeaders.columns]
dataAreaId = "VARCHAR"
SalesOrderNumber = "VARCHAR"
OrderingCustomerAccountNumber = "VARCHAR"
CurrencyCode = "VARCHAR"
SalesOrderName = "VARCHAR"

[fno.CDSSalesOrderLines]
key = ["dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"]
incremental = "full"
[fno.CDSSalesOrderLines.columns]
dataAreaId = "VARCHAR"
SalesOrderNumber = "VARCHAR"
LineCreationSequenceNumber = "INTEGER"
ProductNumber = "VARCHAR"
OrderedSalesQuantity = "DECIMAL(19,4)"
"""

CUSTOMERS = """{{{{ config(flow="accounts", target={{"system": "fno", "entity": "CustomersV2",
    "key": ["dataAreaId", "CustomerAccount"], "on_conflict": "{rule}", "guardrails": {guardrails}}}) }}}}
select 'usmf' as dataAreaId, c.account as CustomerAccount, c.name as OrganizationName, 'Organization' as PartyType,
       '10' as CustomerGroupId, 'USD' as SalesCurrencyCode, c.city as AddressCity, c.note as _p2c_note
from seeds.customers as c
"""

ACCOUNTS = """{{ config(flow="accounts", target={"system": "sales", "entity": "accounts", "key": ["accountnumber"],
    "id": "accountid"}) }}
select {{ deterministic_id('accounts', 'a.accountnumber') }} as accountid, a.accountnumber, a.name, a.telephone1
from seeds.sales_accounts as a
"""

HEADERS = """{{ config(flow="orders", target={"system": "fno", "entity": "CDSSalesOrderHeaders",
    "key": ["dataAreaId", "SalesOrderNumber"]}) }}
select 'usmf' as dataAreaId, o.number as SalesOrderNumber, o.customer as OrderingCustomerAccountNumber,
       'USD' as CurrencyCode, o.name as SalesOrderName
from seeds.orders as o
"""

LINES = """{{ config(flow="orders", target={"system": "fno", "entity": "CDSSalesOrderLines",
    "key": ["dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"],
    "parent": {"model": "order_headers", "on": {"dataAreaId": "dataAreaId", "SalesOrderNumber": "SalesOrderNumber"}}}) }}
select 'usmf' as dataAreaId, l.number as SalesOrderNumber, cast(l.line as integer) as LineCreationSequenceNumber,
       l.product as ProductNumber, cast(l.quantity as decimal(19, 4)) as OrderedSalesQuantity
from seeds.order_lines as l
"""

SEED_COLUMNS = {
    "customers": ["account", "name", "city", "note"],
    "sales_accounts": ["accountnumber", "name", "telephone1"],
    "orders": ["number", "customer", "name"],
    "order_lines": ["id", "number", "line", "product", "quantity"],
}


class Project:
    """A models folder, a profile for the test tenant, and the seeds the models read (what is desired)."""

    def __init__(self, root: Path, tenant) -> None:
        self.root, self.tenant = root, tenant
        self.models = root / "models"
        for folder in ("sources", "flows", "staging", "seeds"):
            (self.models / folder).mkdir(parents=True, exist_ok=True)
        (self.models / "project.toml").write_text('[vars]\nfno_company = "usmf"\n')
        (self.models / "sources" / "load_tests.toml").write_text(SOURCES)
        self.configure()
        (self.models / "flows" / "sales_accounts.sql").write_text(ACCOUNTS)
        (self.models / "flows" / "order_headers.sql").write_text(HEADERS)
        (self.models / "flows" / "order_lines.sql").write_text(LINES)
        for name in SEED_COLUMNS:
            self.seed(name, [])
        self.staging = root / "staging.duckdb"
        self.profile = write_profile(root / "profile.toml", tenant, staging=self.staging, models=self.models)

    def configure(self, rule: str = "source_wins", guardrails: dict | None = None) -> None:
        (self.models / "flows" / "customers.sql").write_text(CUSTOMERS.format(rule=rule, guardrails=json.dumps(guardrails or {})))

    def seed(self, name: str, rows: list[dict]) -> None:
        with (self.models / "seeds" / f"{name}.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, SEED_COLUMNS[name])
            writer.writeheader()
            writer.writerows(rows)

    def query(self, sql: str, params: list | None = None) -> list[tuple]:
        with duckdb.connect(str(self.staging), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


@pytest.fixture
def project(tmp_path, tenant, monkeypatch) -> Project:
    monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
    return Project(tmp_path, tenant)


def service_client(tenant, system: str) -> httpx.Client:
    """A signed-in client of one of the tenant's services, as its own users' apps are."""
    origin = tenant.sales_url if system == "sales" else tenant.fno_url
    context = ssl.create_default_context(cafile=str(tenant.ca_file))
    token = httpx.post(f"{tenant.authority_url}/oauth2/v2.0/token", verify=context, data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
        "scope": f"{origin}/.default"}).json()["access_token"]
    root = f"{origin}/api/data/v9.2/" if system == "sales" else f"{origin}/data/"
    return httpx.Client(base_url=root, verify=context, timeout=30, headers={
        "Authorization": f"Bearer {token}", "Accept": "application/json", "OData-Version": "4.0"})
