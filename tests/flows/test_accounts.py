"""Accounts → CustomersV2 end to end: exactly the active accounts, with the seeds' defaults, then no writes."""

import csv

from extract.profile import PROJECT_DIR


def seed(name: str) -> dict[str, str]:
    with (PROJECT_DIR / "models" / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return {row["source_value"].strip().lower(): row["target_value"] for row in csv.DictReader(handle)}


def test_active_accounts_become_customers_with_the_template_defaults(flow_run, tenant):
    run = flow_run("accounts")
    accounts = tenant.sales.rows("accounts")
    active = {a["accountnumber"]: a for a in accounts if a["statecode"] == 0}
    inactive = {a["accountnumber"] for a in accounts if a["statecode"] != 0}
    assert active and inactive  # the demo data has both, or this test proves nothing

    first = run()
    assert first["targets"]["fno.CustomersV2"] == {"insert": len(active), "update": 0, "conflict": 0, "failed": 0}
    synced = {c["CustomerAccount"]: c for c in tenant.fno.rows("CustomersV2")
              if c["dataAreaId"] == "usmf" and c["CustomerAccount"].startswith("ACC-")}
    assert set(synced) == set(active)  # exactly the active accounts: none missing, no inactive one

    defaults, countries = seed("customer_defaults"), seed("country")
    for number, account in active.items():
        customer = synced[number]
        assert {f: customer[f] for f in ("CustomerGroupId", "SiteId", "WarehouseId", "LanguageId")} == {
            "CustomerGroupId": defaults["customergroupid"], "SiteId": defaults["siteid"],
            "WarehouseId": defaults["warehouseid"], "LanguageId": defaults["languageid"]}
        assert (customer["PartyType"], customer["IsExternallyMaintained"]) == ("Organization", "Yes")
        country = (account["address1_country"] or "").strip().lower()
        assert customer["AddressCountryRegionISOCode"] == (countries[country] if country else "US")
    assert any(not a["address1_country"] for a in active.values())  # blank → US was exercised

    # why an inactive account is absent, from the staging database alone
    absent = run.query(
        "select a.accountnumber, a.statecode from raw_sales.accounts a "
        "where not exists (select 1 from models.customers_from_accounts c where c.CustomerAccount = a.accountnumber)")
    assert {number for number, _ in absent} == inactive
    assert all(statecode != 0 for _, statecode in absent)

    second = run()
    assert "fno.CustomersV2" not in second["targets"]
    assert run.writes(second) == 0
