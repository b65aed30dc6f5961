"""Sales choice values and state/status pairs over HTTPS: refused with the platform's codes and messages."""

import re

from emulate.catalog import SALES_ENTITY_SETS
from emulate.catalog.sales_states import STATE_ENUMS, STATUS_STATES


def _id(response) -> str:
    assert response.status_code == 204, response.text
    return re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)


def _stored(tenant, entity_set, key, value) -> dict:
    return next(row for row in tenant.sales.rows(entity_set) if row[key] == value)


def test_every_status_reason_belongs_to_a_declared_state():
    for entity in SALES_ENTITY_SETS.values():
        status, state = entity.column("statuscode"), entity.column("statecode")
        if status is not None:
            assert set(STATUS_STATES[entity.name]) == {value for value, _ in status.options}, entity.name
            assert set(STATUS_STATES[entity.name].values()) == {value for value, _ in state.options}, entity.name
        if state is not None:
            assert entity.name in STATE_ENUMS


def test_a_choice_value_outside_its_options_is_refused(sales, tenant):
    refused = sales.post("accounts", json={"name": "Bad Choice Ltd", "customertypecode": 999})
    assert refused.status_code == 400
    assert refused.json()["error"] == {
        "code": "0x8004431A",
        "message": "A validation error occurred. The value 999 of 'customertypecode' on record of type 'account' is outside the "
                   "valid range. Accepted Values: 1,2,3,4,5,6,7,8,9,10,11,12"}
    assert not [a for a in tenant.sales.rows("accounts") if a["name"] == "Bad Choice Ltd"]
    account = _id(sales.post("accounts", json={"name": "Good Choice Ltd", "customertypecode": 3}))
    assert sales.patch(f"accounts({account})", json={"customertypecode": 0}).json()["error"]["code"] == "0x8004431A"
    order = _id(sales.post("salesorders", json={"name": "Status choice"}))
    assert sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": 647390099}).status_code == 400
    assert _stored(tenant, "accounts", "accountid", account)["customertypecode"] == 3


def test_a_status_must_belong_to_the_state(sales, tenant):
    account = _id(sales.post("accounts", json={"name": "State Pair Ltd"}))
    mismatch = sales.patch(f"accounts({account})", json={"statecode": 1, "statuscode": 1})
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == {
        "code": "0x80048408", "message": f"1 is not a valid status code for state code AccountState.Inactive on account with Id {account}."}
    alone = sales.patch(f"accounts({account})", json={"statuscode": 2})  # against the stored state, Active
    assert alone.status_code == 400 and "AccountState.Active" in alone.json()["error"]["message"]
    unknown = sales.patch(f"accounts({account})", json={"statuscode": 7})
    assert unknown.json()["error"]["message"] == f"7 is not a valid status code on account with Id {account}."
    state = sales.patch(f"accounts({account})", json={"statecode": 5})
    assert state.json()["error"] == {"code": "0x80048408", "message": f"5 is not a valid state code on account with Id {account}."}
    stored = _stored(tenant, "accounts", "accountid", account)
    assert (stored["statecode"], stored["statuscode"]) == (0, 1)
    created = sales.post("quotes", json={"name": "Won at birth", "statuscode": 4})
    assert created.status_code == 400 and "QuoteState.Draft on quote" in created.json()["error"]["message"]


def test_a_state_written_alone_gets_its_default_status(sales, tenant):
    account = _id(sales.post("accounts", json={"name": "Deactivated Ltd"}))
    assert sales.patch(f"accounts({account})", json={"statecode": 1}).status_code == 204
    stored = _stored(tenant, "accounts", "accountid", account)
    assert (stored["statecode"], stored["statuscode"]) == (1, 2)
    created = _id(sales.post("accounts", json={"name": "Born Inactive Ltd", "statecode": 1}))
    stored = _stored(tenant, "accounts", "accountid", created)
    assert (stored["statecode"], stored["statuscode"]) == (1, 2)
    assert sales.patch(f"accounts({account})", json={"statecode": 0, "statuscode": 1}).status_code == 204


def test_bulk_writes_are_validated_too(sales, tenant):
    body = {"Targets": [{"name": "Bulk bad", "customertypecode": 42}]}
    refused = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json=body)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "0x8004431A"
    assert not [a for a in tenant.sales.rows("accounts") if a["name"] == "Bulk bad"]
