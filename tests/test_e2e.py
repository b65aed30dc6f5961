"""The accounts flow end to end over real HTTPS: insert → edit in Sales → update → no-op.

Run with a copy of the project's models holding only the accounts flow, so the counts are
exactly the accounts'; tests/flows/ covers each flow, and the whole project together.
"""

import csv
import json

import duckdb
import pytest

from emulate.scenarios import edit_accounts
from extract.profile import PROJECT_DIR

from tests.conftest import SECRET_ENV, write_profile
from tests.flows.conftest import flow_models

with (PROJECT_DIR / "models" / "seeds" / "country.csv").open(encoding="utf-8") as seed:
    COUNTRIES = {row["source_value"]: row["target_value"] for row in csv.DictReader(seed)}


def iso_country(sales_value: str | None) -> str:
    """The analysts' country value map, blank or unmapped → US (p2c-mappings.md 1.3)."""
    return COUNTRIES.get((sales_value or "").strip().lower(), "US")


@pytest.fixture
def profile(tmp_path, tenant, monkeypatch):
    """The emulated tenant with the accounts flow only."""
    monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
    models = flow_models(tmp_path / "models", "accounts")
    return write_profile(tmp_path / "profile.toml", tenant, staging=tmp_path / "staging.duckdb", models=models)


def run(cli, profile) -> dict:
    result = cli("run", "--profile", str(profile), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def customers(tenant) -> dict[str, dict]:
    return {c["CustomerAccount"]: c for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf"}


def expected_customer(account, currencies) -> dict:
    blank = lambda v: "" if v is None else v  # noqa: E731 - F&O stores blanks as ''
    return {
        "dataAreaId": "usmf",
        "CustomerAccount": account["accountnumber"],
        "OrganizationName": blank(account["name"]),
        "PartyType": "Organization",
        "CustomerGroupId": "10",
        "SiteId": "1",
        "WarehouseId": "13",
        "LanguageId": "en-us",
        "IsExternallyMaintained": "Yes",
        "SalesCurrencyCode": currencies.get(account["_transactioncurrencyid_value"], ""),
        "AddressStreet": blank(account["address1_line1"]),
        "AddressCity": blank(account["address1_city"]),
        "AddressZipCode": blank(account["address1_postalcode"]),
        "AddressState": blank(account["address1_stateorprovince"]),
        "AddressCounty": blank(account["address1_county"]),
        "AddressCountryRegionISOCode": iso_country(account["address1_country"]),
        "InvoiceAddressCountryRegionISOCode": iso_country(account["address2_country"]),
        "InvoiceAddressStreet": blank(account["address2_line1"]),
        "InvoiceAddressCity": blank(account["address2_city"]),
        "PrimaryContactPhone": blank(account["telephone1"]),
        "PrimaryContactFax": blank(account["fax"]),
        "PrimaryContactEmail": blank(account["emailaddress1"]),
        "PrimaryContactURL": blank(account["websiteurl"]),
        "SalesMemo": blank(account["description"]),
        "OrganizationNumberOfEmployees": account["numberofemployees"] or 0,
    }


def test_insert_then_update_changed_fields_then_nothing(cli, tenant, profile, tmp_path):
    accounts = [a for a in tenant.sales.rows("accounts") if a["statecode"] == 0]
    currencies = {c["transactioncurrencyid"]: c["isocurrencycode"] for c in tenant.sales.rows("transactioncurrencies")}
    native_before = {k: v for k, v in customers(tenant).items() if not k.startswith("ACC-")}
    assert accounts and native_before

    first = run(cli, profile)
    assert first["targets"] == {"fno.CustomersV2": {"insert": len(accounts), "update": 0, "conflict": 0, "failed": 0}}
    stored = customers(tenant)
    for account in accounts:
        customer = stored[account["accountnumber"]]
        expected = expected_customer(account, currencies)
        assert {k: customer[k] for k in expected} == expected
        assert float(customer["CreditLimit"]) == float(account["creditlimit"] or 0)
        assert customer["PartyNumber"]  # assigned by F&O, never sent by p2c
    assert {k: v for k, v in stored.items() if k in native_before} == native_before  # F&O's own customers untouched

    changed = edit_accounts(tenant, 3, seed=11)
    edited = {a["accountnumber"]: a for a in tenant.sales.rows("accounts") if a["accountnumber"] in changed}
    second = run(cli, profile)
    updates = sum(1 for n in changed if edited[n]["statecode"] == 0)
    assert second["targets"] == {"fno.CustomersV2": {"insert": 0, "update": updates, "conflict": 0, "failed": 0}}
    stored = customers(tenant)
    for number, account in edited.items():
        expected = expected_customer(account, currencies)
        assert {k: stored[number][k] for k in expected} == expected
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        planned = con.execute(
            "select key->>'CustomerAccount', changes from p2c_meta.plan where plan_id = ?", [second["plan"]["plan_id"]]
        ).fetchall()
        assert {number for number, _ in planned} == set(edited)
        for number, changes in planned:
            expected = expected_customer(edited[number], currencies)
            changes = json.loads(changes)
            assert changes and all(old != new == expected[field] for field, old, new in changes)
            assert {field for field, _, _ in changes} <= {"OrganizationName", "PrimaryContactPhone", "AddressCity"}

    third = run(cli, profile)
    assert third["targets"] == {}
    assert third["plan"]["operations"] == 0
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from p2c_meta.push_log where run_id = ?", [third["run_id"]]).fetchone() == (0,)
        assert con.execute(
            "select count(distinct run_id), bool_and(status = 'ok') from p2c_meta.runs"
        ).fetchone() == (3, True)


def test_stage_commands_run_one_after_another(cli, tenant, profile):
    for command in ("extract", "build", "plan", "push"):
        result = cli(command, "--profile", str(profile))
        assert result.exit_code == 0, result.output
    assert len([k for k in customers(tenant) if k.startswith("ACC-")]) > 0
    # the next run's extract reads back what was pushed, so a new plan is empty
    assert cli("extract", "--profile", str(profile)).exit_code == 0
    replanned = json.loads(cli("plan", "--profile", str(profile), "--json").stdout)
    assert replanned["operations"] == 0
