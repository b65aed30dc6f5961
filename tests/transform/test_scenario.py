"""The analyst's loop (issue 5): edit a value map and a model's SQL, `p2c build`, `p2c plan`, and
see exactly the affected target fields change, and nothing else. Against the emulated tenant."""

import json
import shutil

import duckdb

from extract.profile import PROJECT_DIR

from ..conftest import write_profile

# the accounts flow, copied as an analyst's working copy of models/
ACCOUNTS_FLOW = ("project.toml", "sources/accounts.toml", "staging/stg_sales__accounts.sql",
                 "staging/stg_sales__transactioncurrencies.sql", "flows/customers_from_accounts.sql",
                 "seeds/country.csv", "seeds/customer_defaults.csv")
PHONE = "coalesce(a.telephone1, '')"


def copy_models(target):
    for relpath in ACCOUNTS_FLOW:
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / "models" / relpath, target / relpath)
    return target


def ok(result):
    assert result.exit_code == 0, result.output
    return result


def test_editing_a_value_map_and_a_model_changes_exactly_the_affected_fields(cli, tenant, tmp_path, monkeypatch):
    from ..conftest import SECRET_ENV

    monkeypatch.setenv(SECRET_ENV, tenant.client_secret)
    models = copy_models(tmp_path / "models")
    profile = str(write_profile(tmp_path / "p.toml", tenant, staging=tmp_path / "staging.duckdb", models=models))
    ok(cli("run", "--profile", profile))
    ok(cli("extract", "--profile", profile))  # read back what was pushed: the targets now match the models

    # the analyst: the United Kingdom becomes UK in F&O, and phone numbers lose their dashes
    country = models / "seeds" / "country.csv"
    assert "united kingdom,GB\n" in country.read_text()
    country.write_text(country.read_text().replace("united kingdom,GB\n", "united kingdom,UK\n"))
    flow = models / "flows" / "customers_from_accounts.sql"
    assert flow.read_text().count(PHONE) == 1
    flow.write_text(flow.read_text().replace(PHONE, f"replace({PHONE}, '-', '')"))

    ok(cli("build", "--profile", profile))
    planned = json.loads(ok(cli("plan", "--profile", profile, "--json")).stdout)

    accounts = [a for a in tenant.sales.rows("accounts") if a["statecode"] == 0]
    expected = set()
    for a in accounts:
        for field, sales_value in (("AddressCountryRegionISOCode", a["address1_country"]),
                                   ("InvoiceAddressCountryRegionISOCode", a["address2_country"])):
            if (sales_value or "").strip().lower() == "united kingdom":
                expected.add((a["accountnumber"], field, "UK"))
        if "-" in (a["telephone1"] or ""):
            expected.add((a["accountnumber"], "PrimaryContactPhone", a["telephone1"].replace("-", "")))
    assert {f for _, f, _ in expected} == {"AddressCountryRegionISOCode", "InvoiceAddressCountryRegionISOCode",
                                           "PrimaryContactPhone"}  # the tenant's data exercises all three edits
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        rows = con.execute("select action, key->>'CustomerAccount', changes from p2c_meta.plan where plan_id = ?",
                           [planned["plan_id"]]).fetchall()
    assert {action for action, _, _ in rows} == {"update"}
    changed = {(number, field, new) for _, number, changes in rows for field, _, new in json.loads(changes)}
    assert changed == expected
    assert planned["counts"] == {"fno.CustomersV2": {"update": len({n for n, _, _ in expected})}}
