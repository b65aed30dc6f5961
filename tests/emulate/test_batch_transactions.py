"""`$batch` write items share one transaction; a failure rolls back exactly its own change set (or request).

The items before a failure commit, the ones after it run on what those left, and change
tracking and ETags see every committed write (emulate/odata/batch.py `run_items`).
"""

import uuid

from tests.emulate.multipart import batch, change_set, read_batch, request_part

API = "/api/data/v9.2"


def _contact(tag: str) -> dict:
    return {"firstname": "Tx", "lastname": tag, "msdynce_contactnumber": f"CON-{uuid.uuid4().hex[:5]}-{tag}"}


def _contacts(tenant, lastname: str) -> list[dict]:
    return [row for row in tenant.sales.rows("contacts") if row["lastname"] == lastname]


def test_failed_change_set_rolls_back_alone_and_the_rest_commits(sales, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    first, good_then_bad, after = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    token = sales.get("contacts?$select=contactid", headers={"Prefer": "odata.track-changes"}).json()["@odata.deltaLink"]
    headers, body = batch(
        change_set(request_part("PATCH", f"{API}/contacts({first})", _contact(tag), content_id="1")),
        change_set(request_part("PATCH", f"{API}/contacts({good_then_bad})", _contact(tag), content_id="2"),
                   request_part("PATCH", f"{API}/contacts({uuid.uuid4()})", {**_contact(tag), "statecode": 7}, content_id="3")),
        request_part("PATCH", f"{API}/contacts({after})", _contact(tag), content_id="4"),
        request_part("GET", f"{API}/contacts({first})?$select=lastname"),
    )
    response = sales.post("$batch", content=body, headers={**headers, "Prefer": "odata.continue-on-error"})
    assert response.status_code == 200, response.text
    created, failed, outside, read = read_batch(response).parts
    assert created.status == 204 and outside.status == 204
    assert failed.status == 400 and failed.content_id == "3" and failed.json()["error"]["code"] == "0x80048408"
    assert read.status == 200 and read.json()["lastname"] == tag  # a GET after the writes sees them
    stored = {row["contactid"] for row in _contacts(tenant, tag)}
    assert stored == {str(first), str(after)}  # the failed change set's first upsert rolled back with it
    delta = sales.get(token.split("/api/data/v9.2/", 1)[1]).json()["value"]
    assert {str(first), str(after)} <= {row["contactid"] for row in delta}


def test_without_continue_on_error_the_writes_before_the_failure_commit(sales, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    first, never = uuid.uuid4(), uuid.uuid4()
    headers, body = batch(
        change_set(request_part("PATCH", f"{API}/contacts({first})", _contact(tag), content_id="1")),
        request_part("PATCH", f"{API}/contacts({uuid.uuid4()})", _contact(tag), headers={"If-Match": 'W/"1"'}),
        change_set(request_part("PATCH", f"{API}/contacts({never})", _contact(tag), content_id="3")),
    )
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 400
    parts = read_batch(response).parts
    assert [p.status for p in parts] == [204, 404]
    assert [row["contactid"] for row in _contacts(tenant, tag)] == [str(first)]


def test_etag_changes_on_each_write_in_one_batch(sales, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    contact = uuid.uuid4()
    created = sales.patch(f"contacts({contact})", json=_contact(tag))
    assert created.status_code == 204
    before = sales.get(f"contacts({contact})?$select=lastname").json()["@odata.etag"]
    headers, body = batch(
        change_set(request_part("PATCH", f"{API}/contacts({contact})", {"jobtitle": "One"}, headers={"If-Match": before}, content_id="1")),
        change_set(request_part("PATCH", f"{API}/contacts({contact})", {"jobtitle": "Two"}, headers={"If-Match": before}, content_id="2")),
    )
    response = sales.post("$batch", content=body, headers={**headers, "Prefer": "odata.continue-on-error"})
    first, stale = read_batch(response).parts
    assert first.status == 204 and stale.status == 412  # the first write changed the ETag the second one names
    row = sales.get(f"contacts({contact})?$select=jobtitle").json()
    assert row["jobtitle"] == "One" and row["@odata.etag"] != before


def test_fno_failed_change_set_in_the_middle(fno, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    customer = {"dataAreaId": "usmf", "OrganizationName": f"Tx {tag}", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}
    headers, body = batch(
        change_set(request_part("POST", "CustomersV2", {**customer, "CustomerAccount": f"T1-{tag}"}, content_id="1")),
        change_set(request_part("POST", "CustomersV2", {**customer, "CustomerAccount": f"T2-{tag}"}, content_id="2"),
                   request_part("POST", "CustomersV2", {**customer, "CustomerAccount": f"T2-{tag}"}, content_id="3")),
        change_set(request_part("POST", "CustomersV2", {**customer, "CustomerAccount": f"T3-{tag}"}, content_id="4")),
    )
    response = fno.post("$batch", content=body, headers=headers)
    assert response.status_code == 200
    first, failed, last = read_batch(response).parts
    assert first.status == 201 and last.status == 201 and first.json()["CustomerAccount"] == f"T1-{tag}"
    assert failed.status == 500 and failed.content_id == "3"
    stored = {row["CustomerAccount"] for row in tenant.fno.rows("CustomersV2") if row["OrganizationName"] == f"Tx {tag}"}
    assert stored == {f"T1-{tag}", f"T3-{tag}"}
    etags = {first.json()["@odata.etag"], last.json()["@odata.etag"]}
    assert len(etags) == 2
    assert fno.get(f"CustomersV2(dataAreaId='usmf',CustomerAccount='T3-{tag}')").json()["@odata.etag"] == last.json()["@odata.etag"]


def test_alternate_key_taken_inside_a_change_set(sales, tenant):
    tag = uuid.uuid4().hex[:6].upper()
    number = f"CON-{tag}-ALT"
    headers, body = batch(change_set(
        request_part("PATCH", f"{API}/contacts({uuid.uuid4()})", {"lastname": tag, "msdynce_contactnumber": number}, content_id="1"),
        request_part("PATCH", f"{API}/contacts({uuid.uuid4()})", {"lastname": tag, "msdynce_contactnumber": number.lower()}, content_id="2"),
    ))
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 400
    (failed,) = read_batch(response).parts
    assert failed.status == 412 and failed.content_id == "2"
    assert failed.json()["error"] == {"code": "0x80040237", "message": (
        "A record that has the attribute values msdynce_contactnumber already exists. "
        "The entity key msdynce_contactnumber requires that this set of attributes contains unique values.")}
    assert _contacts(tenant, tag) == []
