"""An activated Sales order over HTTPS: a Sales user's edits are refused, the integration's F&O -> Sales updates go through.

The emulator tells them apart by what is written (p2c_documents, decisions.md 6): header fields of the
F&O -> Sales map may change, others only be resent unchanged; lines are written by the integration with
msdynce_ismaintainedexternally = true.
"""

import re

import pytest

PLUGIN_ERROR = "0x80040265"
ACTIVE, CONFIRMED, INVOICED, DRAFT = 647390000, 647390001, 647390003, 647390011


def _id(response) -> str:
    assert response.status_code == 204, response.text
    return re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)


def _refused(response) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == PLUGIN_ERROR
    assert "activated and maintained in Finance and Operations" in response.json()["error"]["message"]


def _order(tenant, order_id) -> dict:
    return next(row for row in tenant.sales.rows("salesorders") if row["salesorderid"] == order_id)


def _lines(tenant, order_id) -> list[dict]:
    return [row for row in tenant.sales.rows("salesorderdetails") if row["_salesorderid_value"] == order_id]


@pytest.fixture
def activated(sales, tenant) -> tuple[str, str, str]:
    """(order, its line, an F&O product) of an order just activated in Sales."""
    account = next(a["accountid"] for a in tenant.sales.rows("accounts") if a["statecode"] == 0)
    product = next(p["productid"] for p in tenant.sales.rows("products") if p["msdynce_ismaintainedexternally"])
    order = _id(sales.post("salesorders", json={"name": "Lock test", "customerid_account@odata.bind": f"/accounts({account})"}))
    line = _id(sales.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", "quantity": 2,
                                                     "productid@odata.bind": f"/products({product})"}))
    assert sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": ACTIVE}).status_code == 204
    return order, line, product


def test_a_user_cannot_edit_the_header_reactivate_or_cancel(sales, tenant, activated):
    order, _, _ = activated
    before = _order(tenant, order)
    _refused(sales.patch(f"salesorders({order})", json={"description": "Late note"}))
    _refused(sales.patch(f"salesorders({order})", json={"msdynce_ismaintainedexternally": True}))
    _refused(sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": DRAFT}))
    _refused(sales.patch(f"salesorders({order})", json={"statecode": 2, "statuscode": 4}))
    after = _order(tenant, order)
    assert (after["description"], after["msdynce_processingstatus"], after["statecode"], after["versionnumber"]) == \
        (before["description"], ACTIVE, 0, before["versionnumber"])


def test_a_user_cannot_add_change_or_delete_lines(sales, tenant, activated):
    order, line, product = activated
    write_in = {"salesorderid@odata.bind": f"/salesorders({order})", "isproductoverridden": True,
                "productdescription": "Gift wrap", "quantity": 1}
    _refused(sales.post("salesorderdetails", json=write_in))
    _refused(sales.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", "quantity": 1,
                                                   "productid@odata.bind": f"/products({product})"}))
    _refused(sales.patch(f"salesorderdetails({line})", json={"quantity": 7}))
    _refused(sales.delete(f"salesorderdetails({line})"))
    assert [(row["salesorderdetailid"], row["quantity"]) for row in _lines(tenant, order)] == [(line, 2)]
    assert _order(tenant, order)["msdynce_hasexternallymaintainedproductsonly"] is True


def test_a_user_cannot_delete_the_order(sales, tenant, activated):
    order, line, _ = activated
    _refused(sales.delete(f"salesorders({order})"))
    assert _order(tenant, order) and [row["salesorderdetailid"] for row in _lines(tenant, order)] == [line]


def test_the_integrations_updates_still_apply(sales, tenant, activated):
    order, line, product = activated
    stored = _order(tenant, order)
    header = {"ordernumber": stored["ordernumber"], "name": stored["name"], "msdynce_processingstatus": CONFIRMED,
              "statecode": 0, "shipto_city": "Redmond", "requestdeliveryby": "2026-03-01", "totalamount": 180.5,
              "totaltax": 12.5, "freightamount": 5, "msdynce_misctax": 3}
    assert sales.patch(f"salesorders({order})", json=header).status_code == 204
    assert sales.patch(f"salesorderdetails({line})", json={"quantity": 3, "priceperunit": 55, "tax": 4,
                                                           "msdynce_ismaintainedexternally": True}).status_code == 204
    added = _id(sales.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", "quantity": 1,
                                                      "productid@odata.bind": f"/products({product})", "sequencenumber": 2,
                                                      "msdynce_ismaintainedexternally": True}))
    after = _order(tenant, order)
    assert (after["msdynce_processingstatus"], after["shipto_city"], after["totalamount"]) == (CONFIRMED, "Redmond", 180.5)
    lines = {row["salesorderdetailid"]: row for row in _lines(tenant, order)}
    assert lines[line]["quantity"] == 3 and added in lines
    assert [row["productdescription"] for row in lines.values() if row["msdynce_ismisctax"]] == ["Freight Tax"]
    assert sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": INVOICED, "statecode": 4,
                                                      "statuscode": 100003}).status_code == 204
    assert (_order(tenant, order)["statecode"], _order(tenant, order)["statuscode"]) == (4, 100003)


def test_a_draft_order_stays_editable(sales, tenant):
    order = _id(sales.post("salesorders", json={"name": "Still a draft"}))
    line = _id(sales.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", "quantity": 1,
                                                     "isproductoverridden": True, "productdescription": "Write-in"}))
    assert sales.patch(f"salesorders({order})", json={"description": "Edited"}).status_code == 204
    assert sales.patch(f"salesorderdetails({line})", json={"quantity": 4}).status_code == 204
    assert sales.delete(f"salesorderdetails({line})").status_code == 204
    assert sales.delete(f"salesorders({order})").status_code == 204
