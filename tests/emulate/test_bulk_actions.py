"""Dataverse bulk actions over HTTPS: CreateMultiple, UpdateMultiple, UpsertMultiple, BulkDelete."""

import uuid

TYPE = "Microsoft.Dynamics.CRM.account"


def _rows_by_id(tenant) -> dict[str, dict]:
    return {row["accountid"]: row for row in tenant.sales.rows("accounts")}


def test_create_multiple_returns_ids_and_runs_the_rules(sales, tenant):
    names = [f"Bulk {uuid.uuid4()}" for _ in range(3)]
    response = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple",
                          json={"Targets": [{"name": name, "@odata.type": TYPE} for name in names]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse"
    rows = _rows_by_id(tenant)
    assert [rows[row_id]["name"] for row_id in body["Ids"]] == names
    numbers = [rows[row_id]["accountnumber"] for row_id in body["Ids"]]
    assert all(number.startswith("ACC-") for number in numbers) and len(set(numbers)) == 3


def test_create_multiple_is_atomic(sales, tenant):
    name = f"Atomic {uuid.uuid4()}"
    response = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"name": name, "@odata.type": TYPE}, {"name": "y" * 161, "@odata.type": TYPE}]})
    assert response.status_code == 400 and response.json()["error"]["code"] == "0x80044331"
    assert name not in {row["name"] for row in tenant.sales.rows("accounts")}
    wrong_type = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"name": name, "@odata.type": "Microsoft.Dynamics.CRM.contact"}]})
    assert wrong_type.status_code == 400


def test_update_multiple_changes_rows_and_versions(sales, tenant):
    ids = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"name": f"To update {i}", "@odata.type": TYPE} for i in range(2)]}).json()["Ids"]
    before = _rows_by_id(tenant)
    response = sales.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [
        {"accountid": row_id, "telephone1": f"555-{n}", "@odata.type": TYPE} for n, row_id in enumerate(ids)]})
    assert response.status_code == 204, response.text
    after = _rows_by_id(tenant)
    assert [after[row_id]["telephone1"] for row_id in ids] == ["555-0", "555-1"]
    assert all(after[row_id]["versionnumber"] > before[row_id]["versionnumber"] for row_id in ids)
    missing = sales.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [
        {"accountid": ids[0], "telephone1": "rolled back", "@odata.type": TYPE},
        {"accountid": str(uuid.uuid4()), "telephone1": "x", "@odata.type": TYPE}]})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"
    assert _rows_by_id(tenant)[ids[0]]["telephone1"] == "555-0"


def test_upsert_multiple_by_alternate_key_and_primary_key(sales, tenant):
    existing = tenant.sales.rows("contacts")[0]
    new_number, new_id = f"CON-{uuid.uuid4().int % 100000:05d}-UPSERT", str(uuid.uuid4())
    contact = "Microsoft.Dynamics.CRM.contact"
    by_number = sales.post("contacts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [
        {"@odata.type": contact, "@odata.id": f"contacts(msdynce_contactnumber='{existing['msdynce_contactnumber']}')", "fax": "upserted"},
        {"@odata.type": contact, "@odata.id": f"contacts(msdynce_contactnumber='{new_number}')", "lastname": "Upsert created"},
    ]})
    assert by_number.status_code == 200, by_number.text
    ids = by_number.json()["Ids"]
    contacts = {row["contactid"]: row for row in tenant.sales.rows("contacts")}
    assert ids[0] == existing["contactid"] and contacts[ids[0]]["fax"] == "upserted"
    assert contacts[ids[1]]["msdynce_contactnumber"] == new_number and contacts[ids[1]]["lastname"] == "Upsert created"
    by_id = sales.post("accounts/Microsoft.Dynamics.CRM.UpsertMultiple", json={"Targets": [
        {"@odata.type": TYPE, "accountid": new_id, "name": "Upsert by id"}]})
    assert by_id.status_code == 200 and by_id.json()["Ids"] == [new_id]
    assert _rows_by_id(tenant)[new_id]["name"] == "Upsert by id"


def test_bulk_delete_removes_rows_by_id(sales, tenant):
    ids = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"name": f"To delete {i}", "@odata.type": TYPE} for i in range(2)]}).json()["Ids"]
    response = sales.post("BulkDelete", json={
        "JobName": "test", "SendEmailNotification": False, "ToRecipients": [], "CCRecipients": [],
        "RecurrencePattern": "", "StartDateTime": "2026-01-01T00:00:00Z",
        "QuerySet": [{"@odata.type": "Microsoft.Dynamics.CRM.QueryExpression", "EntityName": "account",
                      "ColumnSet": {"AllColumns": False, "Columns": []},
                      "Criteria": {"FilterOperator": "And", "Conditions": [{
                          "AttributeName": "accountid", "Operator": "In",
                          "Values": [{"Value": row_id, "Type": "System.Guid"} for row_id in ids]}]}}]})
    assert response.status_code == 200, response.text
    uuid.UUID(response.json()["JobId"])
    assert not set(ids) & set(_rows_by_id(tenant))
