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
    account, parent = tenant.sales.rows("accounts")[0], tenant.sales.rows("contacts")[0]
    contact_id = _created_id(sales.post("contacts", json={
        "lastname": "Bound", "parentcustomerid_contact@odata.bind": f"/contacts(msdynce_contactnumber='{parent['msdynce_contactnumber']}')"}))
    assert _row(tenant, "contacts", "contactid", contact_id)["_parentcustomerid_value"] == parent["contactid"]
    missing = sales.post("accounts", json={"name": "x", "transactioncurrencyid@odata.bind": f"/transactioncurrencies({uuid.uuid4()})"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"
    wrong_set = sales.post("accounts", json={"name": "x", "transactioncurrencyid@odata.bind": f"/accounts({account['accountid']})"})
    assert wrong_set.status_code == 400


def test_accounts_have_no_alternate_key(sales, tenant):
    """P2C 15.0.0.2 removed the account-number key (p2c-mappings 1.2): account numbers name no row."""
    number = tenant.sales.rows("accounts")[0]["accountnumber"]
    for response in (sales.get(f"accounts(accountnumber='{number}')"), sales.patch(f"accounts(accountnumber='{number}')", json={"fax": "x"}),
                     sales.post("contacts", json={"lastname": "x", "parentcustomerid_account@odata.bind": f"/accounts(accountnumber='{number}')"})):
        assert response.status_code == 400, response.text
    twin = sales.post("accounts", json={"name": "Same number", "accountnumber": number})
    assert twin.status_code == 204  # no key, so no uniqueness either
    definition = sales.get("EntityDefinitions(LogicalName='account')", params={"$select": "LogicalName", "$expand": "Keys"})
    assert definition.status_code == 200 and definition.json()["Keys"] == []


def _contact_number() -> str:
    return f"CON-{uuid.uuid4().int % 100000:05d}-UPSERT"


def test_upsert_by_alternate_key_answers_with_the_key_form(sales, tenant):
    number = _contact_number()
    url = f"contacts(msdynce_contactnumber='{number}')"
    created = sales.patch(url, json={"lastname": "Upserted"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"] == f"{tenant.sales_url}{API}/{url}"
    row = _row(tenant, "contacts", "msdynce_contactnumber", number)
    assert row["lastname"] == "Upserted"

    updated = sales.patch(url, json={"lastname": "Upserted again", "msdynce_contactnumber": "ignored"}, headers={"Prefer": "return=representation"})
    assert updated.status_code == 200
    assert updated.headers["ETag"] == updated.json()["@odata.etag"] == f'W/"{_row(tenant, "contacts", "msdynce_contactnumber", number)["versionnumber"]}"'
    assert updated.json()["msdynce_contactnumber"] == number and updated.json()["lastname"] == "Upserted again"

    fresh = sales.patch(f"contacts(msdynce_contactnumber='{number}-2')", json={"lastname": "Fresh"}, headers={"Prefer": "return=representation"})
    assert fresh.status_code == 201 and fresh.headers["ETag"] == fresh.json()["@odata.etag"]
    assert fresh.json()["msdynce_contactnumber"] == f"{number}-2"  # copied from the URL when the body has none


def test_upsert_create_takes_alternate_key_values_from_the_body(sales, tenant):
    """On create the body's key values are used even when they differ from the URL's (use-upsert-insert-update-record.md)."""
    in_url, in_body = _contact_number(), _contact_number()
    created = sales.patch(f"contacts(msdynce_contactnumber='{in_url}')", json={"lastname": "Body key", "msdynce_contactnumber": in_body})
    assert created.status_code == 204
    numbers = {row["msdynce_contactnumber"] for row in tenant.sales.rows("contacts")}
    assert in_body in numbers and in_url not in numbers


def test_upsert_multiple_create_with_the_key_in_body_and_id_fails(sales, tenant):
    """UpsertMultiple refuses a create whose key is both in `@odata.id` and the body (SDK PR #127); an update takes it."""
    contact_type = "Microsoft.Dynamics.CRM.contact"
    number = _contact_number()
    target = {"@odata.type": contact_type, "@odata.id": f"contacts(msdynce_contactnumber='{number}')",
              "msdynce_contactnumber": number, "lastname": "Twice keyed"}
    refused = sales.post("contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [target]})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "0x80040216"
    assert number not in {row["msdynce_contactnumber"] for row in tenant.sales.rows("contacts")}
    without_key = {name: value for name, value in target.items() if name != "msdynce_contactnumber"}
    assert sales.post("contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [without_key]}).status_code == 200
    updated = sales.post("contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [{**target, "lastname": "Updated"}]})
    assert updated.status_code == 200 and _row(tenant, "contacts", "msdynce_contactnumber", number)["lastname"] == "Updated"


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


def test_conditional_get_answers_304_while_the_row_is_unchanged(sales):
    account_id = _created_id(sales.post("accounts", json={"name": "Conditional read"}))
    url = f"accounts({account_id})"
    etag = sales.get(url, params={"$select": "name"}).json()["@odata.etag"]
    unchanged = sales.get(url, params={"$select": "name"}, headers={"If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    assert unchanged.headers["OData-Version"] == "4.0"
    # never with $expand or annotations: related rows could have changed unseen
    expanded = sales.get(url, params={"$expand": "transactioncurrencyid($select=isocurrencycode)"}, headers={"If-None-Match": etag})
    assert expanded.status_code == 200
    annotated = sales.get(url, headers={"If-None-Match": etag, "Prefer": 'odata.include-annotations="*"'})
    assert annotated.status_code == 200
    assert sales.get(url, headers={"If-None-Match": 'W/"1"'}).status_code == 200
    assert sales.patch(url, json={"name": "Changed"}, headers={"If-Match": "*"}).status_code == 204
    changed = sales.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.json()["name"] == "Changed" and changed.json()["@odata.etag"] != etag
