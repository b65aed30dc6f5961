"""F&O `$batch` over HTTPS: atomic change sets, the 500 part of a failed one (protocols.md 2.4)."""

import uuid

from tests.emulate.multipart import batch, change_set, read_batch, request_part

CUSTOMER = {"dataAreaId": "usmf", "OrganizationName": "Batch Org", "CustomerGroupId": "10", "SalesCurrencyCode": "USD"}


def _account() -> str:
    return f"B-{uuid.uuid4().hex[:10].upper()}"


def _stored(tenant, account: str) -> dict | None:
    return next((row for row in tenant.fno.rows("CustomersV2") if row["CustomerAccount"] == account), None)


def test_change_set_creates_and_updates_by_reference(fno, tenant):
    first, second = _account(), _account()
    headers, body = batch(change_set(
        request_part("POST", f"{tenant.fno_url}/data/CustomersV2", {**CUSTOMER, "CustomerAccount": first}, content_id="1"),
        request_part("POST", "CustomersV2", {**CUSTOMER, "CustomerAccount": second}, content_id="2"),
        request_part("PATCH", "$1", {"SalesMemo": "patched in batch"}, content_id="3"),
    ))
    response = fno.post("$batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    created_first, created_second, patched = read_batch(response).parts
    assert [p.content_id for p in (created_first, created_second, patched)] == ["1", "2", "3"]
    assert (created_first.status, created_first.reason) == (201, "Created")
    assert created_first.headers["Location"] == f"{tenant.fno_url}/data/CustomersV2(dataAreaId='usmf',CustomerAccount='{first}')"
    assert created_second.json()["CustomerAccount"] == second and created_second.json()["PartyNumber"].isdigit()
    assert patched.status == 204
    assert _stored(tenant, first)["SalesMemo"] == "patched in batch" and _stored(tenant, second) is not None


def test_failed_change_set_is_one_500_part_and_the_batch_still_200(fno, tenant):
    existing = next(row["CustomerAccount"] for row in tenant.fno.rows("CustomersV2") if row["dataAreaId"] == "usmf")
    fresh, after = _account(), _account()
    headers, body = batch(
        change_set(request_part("POST", "CustomersV2", {**CUSTOMER, "CustomerAccount": fresh}, content_id="1"),
                   request_part("POST", "CustomersV2", {**CUSTOMER, "CustomerAccount": existing}, content_id="2")),
        request_part("POST", "CustomersV2", {**CUSTOMER, "CustomerAccount": after}),
    )
    response = fno.post("$batch", content=body, headers=headers)
    assert response.status_code == 200
    failed, outside = read_batch(response).parts
    assert failed.change_set is not None and failed.content_id == "2"
    assert (failed.status, failed.reason) == (500, "Internal Server Error")
    error = failed.json()["error"]
    assert error["message"] == "An error has occurred."
    assert error["innererror"]["type"].endswith("AxODataWriteException") and "already exists" in error["innererror"]["message"]
    assert _stored(tenant, fresh) is None  # rolled back with its change set
    assert outside.change_set is None and outside.status == 201 and _stored(tenant, after) is not None


def test_requests_outside_change_sets_are_answered_each_on_their_own(fno, tenant):
    account = _account()
    headers, body = batch(
        request_part("PATCH", f"CustomersV2(dataAreaId='usmf',CustomerAccount='{_account()}')", {"SalesMemo": "x"}),
        request_part("POST", "/data/CustomersV2", {**CUSTOMER, "CustomerAccount": account}),
        request_part("GET", f"CustomersV2(dataAreaId='usmf',CustomerAccount='{account}')?$select=CustomerAccount"),
    )
    response = fno.post("$batch", content=body, headers=headers)
    assert response.status_code == 200
    missing, created, read = read_batch(response).parts
    assert missing.status == 400 and missing.json()["error"]["innererror"]["message"] == "No resources were found when selecting for update."
    assert created.status == 201
    assert read.status == 200 and read.json()["CustomerAccount"] == account


def test_operation_limit_is_a_setting(fno, tenant):
    limit = tenant.fno.batch.max_operations
    try:
        tenant.fno.batch.max_operations = 2
        headers, body = batch(*(request_part("GET", "CustomersV2?$top=1") for _ in range(3)))
        response = fno.post("$batch", content=body, headers=headers)
        assert response.status_code == 400
        assert "cannot exceed 2" in response.json()["error"]["innererror"]["message"]
    finally:
        tenant.fno.batch.max_operations = limit
    assert limit == 5000
