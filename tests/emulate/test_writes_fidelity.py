"""Dataverse write fidelity over HTTPS: bind forms, upsert by key, conditional writes, properties, ETags."""

import uuid

import pytest

API = "/api/data/v9.2"


def _row(tenant, entity_set: str, key: str, value: str) -> dict:
    return next(row for row in tenant.sales.rows(entity_set) if row[key] == value)


def _created_id(response) -> str:
    assert response.status_code == 204, response.text
    return response.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")


@pytest.fixture(scope="module")
def currency_id(tenant) -> str:
    return tenant.sales.rows("transactioncurrencies")[0]["transactioncurrencyid"]


@pytest.mark.parametrize("form", ["/transactioncurrencies({id})", "transactioncurrencies({id})", "{origin}{api}/transactioncurrencies({id})"])
def test_bind_forms(sales, tenant, currency_id, form):
    bind = form.format(id=currency_id, origin=tenant.sales_url, api=API)
    account_id = _created_id(sales.post("accounts", json={"name": f"Bind {form}", "transactioncurrencyid@odata.bind": bind}))
    assert _row(tenant, "accounts", "accountid", account_id)["_transactioncurrencyid_value"] == currency_id


def test_bind_by_alternate_key_and_to_a_missing_row(sales, tenant):
    account = tenant.sales.rows("accounts")[0]
    contact_id = _created_id(sales.post("contacts", json={
        "lastname": "Bound", "parentcustomerid_account@odata.bind": f"/accounts(accountnumber='{account['accountnumber']}')"}))
    assert _row(tenant, "contacts", "contactid", contact_id)["_parentcustomerid_value"] == account["accountid"]
    missing = sales.post("accounts", json={"name": "x", "transactioncurrencyid@odata.bind": f"/transactioncurrencies({uuid.uuid4()})"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"
    wrong_set = sales.post("accounts", json={"name": "x", "transactioncurrencyid@odata.bind": f"/accounts({account['accountid']})"})
    assert wrong_set.status_code == 400


def test_upsert_by_alternate_key_answers_with_the_key_form(sales, tenant):
    number = f"ACC-{uuid.uuid4().int % 100000:05d}-UPSERT"
    url = f"accounts(accountnumber='{number}')"
    created = sales.patch(url, json={"name": "Upserted"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"] == f"{tenant.sales_url}{API}/{url}"
    row = _row(tenant, "accounts", "accountnumber", number)
    assert row["name"] == "Upserted"

    updated = sales.patch(url, json={"name": "Upserted again", "accountnumber": "ignored"}, headers={"Prefer": "return=representation"})
    assert updated.status_code == 200
    assert updated.headers["ETag"] == updated.json()["@odata.etag"] == f'W/"{_row(tenant, "accounts", "accountnumber", number)["versionnumber"]}"'
    assert updated.json()["accountnumber"] == number and updated.json()["name"] == "Upserted again"

    fresh = sales.patch(f"accounts(accountnumber='{number}-2')", json={"name": "Fresh"}, headers={"Prefer": "return=representation"})
    assert fresh.status_code == 201 and fresh.headers["ETag"] == fresh.json()["@odata.etag"]


def test_conditional_headers(sales, tenant):
    account_id = _created_id(sales.post("accounts", json={"name": "Conditional"}))
    exists = sales.patch(f"accounts({account_id})", json={"name": "no"}, headers={"If-None-Match": "*"})
    assert exists.status_code == 412
    assert exists.json()["error"] == {"code": "0x80040237", "message": "A record with matching key values already exists."}
    missing_id = str(uuid.uuid4())
    not_there = sales.patch(f"accounts({missing_id})", json={"name": "no"}, headers={"If-Match": "*"})
    assert not_there.status_code == 404
    assert not_there.json()["error"]["message"] == f"account With Id = {missing_id} Does Not Exist"
    assert missing_id not in {row["accountid"] for row in tenant.sales.rows("accounts")}
    created = sales.patch(f"accounts({missing_id})", json={"name": "Created by If-None-Match"}, headers={"If-None-Match": "*"})
    assert created.status_code == 204 and _row(tenant, "accounts", "accountid", missing_id)["name"] == "Created by If-None-Match"
    stale = sales.delete(f"accounts({account_id})", headers={"If-Match": 'W/"1"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "0x80060882"


def test_single_property_writes_and_etags_that_change_on_every_write(sales, tenant, currency_id):
    account_id = _created_id(sales.post("accounts", json={"name": "Props", "description": "to clear"}))
    versions = [_row(tenant, "accounts", "accountid", account_id)["versionnumber"]]

    assert sales.put(f"accounts({account_id})/name", json={"value": "Props renamed"}).status_code == 204
    versions.append(_row(tenant, "accounts", "accountid", account_id)["versionnumber"])
    assert sales.delete(f"accounts({account_id})/description").status_code == 204
    versions.append(_row(tenant, "accounts", "accountid", account_id)["versionnumber"])
    ref = sales.put(f"accounts({account_id})/transactioncurrencyid/$ref", json={"@odata.id": f"transactioncurrencies({currency_id})"})
    assert ref.status_code == 204
    versions.append(_row(tenant, "accounts", "accountid", account_id)["versionnumber"])
    row = _row(tenant, "accounts", "accountid", account_id)
    assert (row["name"], row["description"], row["_transactioncurrencyid_value"]) == ("Props renamed", None, currency_id)
    assert sales.delete(f"accounts({account_id})/transactioncurrencyid/$ref").status_code == 204
    assert _row(tenant, "accounts", "accountid", account_id)["_transactioncurrencyid_value"] is None
    assert versions == sorted(set(versions))  # strictly increasing: each write a new ETag

    stale = sales.put(f"accounts({account_id})/name", json={"value": "x"}, headers={"If-Match": f'W/"{versions[0]}"'})
    assert stale.status_code == 412
    assert sales.put(f"accounts({uuid.uuid4()})/name", json={"value": "x"}).status_code == 404
    assert sales.put(f"accounts({account_id})/versionnumber", json={"value": 1}).status_code == 400


def test_create_with_representation_has_an_etag(sales):
    response = sales.post("accounts", json={"name": "Represented"}, headers={"Prefer": "return=representation"})
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "return=representation"
    assert response.headers["ETag"] == response.json()["@odata.etag"]
