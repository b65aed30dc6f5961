"""The tenant as a whole: persistence across starts, deterministic demo data, scenarios."""

import re

from emulate.scenarios import edit_accounts
from emulate.tenant import EmulatedTenant


def test_public_attributes(tenant):
    assert tenant.default_company == "usmf"
    assert re.fullmatch(rf"https://127\.0\.0\.1:\d+/{tenant.tenant_id}", tenant.authority_url)
    assert re.fullmatch(r"https://127\.0\.0\.1:\d+", tenant.sales_url) and re.fullmatch(r"https://127\.0\.0\.1:\d+", tenant.fno_url)
    assert len({tenant.authority_url.rsplit("/", 1)[0], tenant.sales_url, tenant.fno_url}) == 3
    assert tenant.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")


def test_demo_data_shape(tenant):
    accounts = tenant.sales.rows("accounts")
    assert 190 <= len(accounts) <= 210
    assert any(a["statecode"] == 1 for a in accounts) and sum(a["statecode"] == 1 for a in accounts) < 20
    assert any(a["address1_country"] is None for a in accounts)
    assert len({a["_transactioncurrencyid_value"] for a in accounts}) >= 3
    assert len({a["accountnumber"] for a in accounts}) == len(accounts)
    customers = {(c["dataAreaId"], c["CustomerAccount"]) for c in tenant.fno.rows("CustomersV2")}
    assert {("usmf", f"US-00{n}") for n in range(1, 6)} | {("demf", f"DE-00{n}") for n in range(1, 4)} <= customers
    assert not {a["accountnumber"] for a in accounts} & {account for _, account in customers}


def test_state_persists_across_stop_and_start(state_dir, client_for, token_for):
    with EmulatedTenant.start(state_dir) as first, client_for(first) as client:
        token = token_for(first, client, first.fno_url)
        created = client.post(f"{first.fno_url}/data/CustomersV2", headers={"Authorization": f"Bearer {token}"},
                              json={"CustomerAccount": "KEEP-1", "CustomerGroupId": "10"})
        assert created.status_code == 201
        secret, accounts = first.client_secret, first.sales.rows("accounts")
    with EmulatedTenant.start(state_dir, seed=999) as second, client_for(second) as client:
        assert second.client_secret == secret
        assert second.sales.rows("accounts") == accounts
        token = token_for(second, client, second.fno_url)
        again = client.get(f"{second.fno_url}/data/CustomersV2(dataAreaId='usmf',CustomerAccount='KEEP-1')",
                           headers={"Authorization": f"Bearer {token}"})
        assert again.status_code == 200 and again.json()["CustomerGroupId"] == "10"


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    def snapshot(directory, seed):
        with EmulatedTenant.start(directory, seed=seed) as running:
            return running.sales.rows("accounts"), running.sales.rows("transactioncurrencies"), running.fno.rows("CustomersV2")

    first, again, other = snapshot(tmp_path / "a", 42), snapshot(tmp_path / "b", 42), snapshot(tmp_path / "c", 7)
    assert first == again
    assert first[0] != other[0] and first[2] != other[2]


def test_edit_accounts_changes_rows_like_a_user(tenant):
    before = {row["accountnumber"]: row for row in tenant.sales.rows("accounts")}
    changed = edit_accounts(tenant, 5, seed=1)
    assert len(changed) == 5 and changed == sorted(changed)
    after = {row["accountnumber"]: row for row in tenant.sales.rows("accounts")}
    for number in changed:
        assert before[number]["statecode"] == 0
        assert after[number]["versionnumber"] > max(r["versionnumber"] for r in before.values())
        assert after[number]["modifiedon"] > before[number]["modifiedon"]
        assert after[number]["telephone1"] != before[number]["telephone1"] or after[number]["address1_city"] != before[number]["address1_city"]
    untouched = set(before) - set(changed)
    assert all(after[n] == before[n] for n in untouched)
    assert edit_accounts(tenant, 5, seed=1) == changed
