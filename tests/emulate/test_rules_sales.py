"""P2C Sales rules through Web API writes: numbering, contact flags, products flag, activation, locks, Freight Tax, invoiced orders."""

import re

import pytest


def _id(response) -> str:
    assert response.status_code == 204, response.text
    return re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)


def _row(tenant, entity_set, key, value) -> dict:
    return next(row for row in tenant.sales.rows(entity_set) if row[key] == value)


@pytest.fixture(scope="module")
def refs(tenant) -> dict:
    products = tenant.sales.rows("products")
    return {
        "account": next(a["accountid"] for a in tenant.sales.rows("accounts") if a["statecode"] == 0),
        "usd": next(c["transactioncurrencyid"] for c in tenant.sales.rows("transactioncurrencies") if c["isocurrencycode"] == "USD"),
        "fno_product": next(p for p in products if p["msdynce_ismaintainedexternally"]),
        "sales_product": next(p for p in products if not p["msdynce_ismaintainedexternally"]),
    }


def _document(sales, refs, header_set, line_set, parent, customer_bind, lines=("fno_product",)) -> tuple[str, list[str]]:
    header = _id(sales.post(header_set, json={"name": "Rule test", customer_bind[0]: customer_bind[1],
                                              "transactioncurrencyid@odata.bind": f"/transactioncurrencies({refs['usd']})"}))
    line_ids = [_id(sales.post(line_set, json={f"{parent}@odata.bind": f"/{header_set}({header})", "quantity": 2,
                                               "productid@odata.bind": f"/products({refs[kind]['productid']})"})) for kind in lines]
    return header, line_ids


def test_contact_number_fullname_and_company_flag(sales, tenant, refs):
    contact = _id(sales.post("contacts", json={"firstname": "Ada", "lastname": "Lovelace",
                                               "parentcustomerid_account@odata.bind": f"/accounts({refs['account']})"}))
    row = _row(tenant, "contacts", "contactid", contact)
    assert re.fullmatch(r"CON-\d{5}-[A-Z]{6}", row["msdynce_contactnumber"])
    assert row["fullname"] == "Ada Lovelace" and row["msdynce_iscompanyanaccount"] is True
    assert row["msdynce_isactivecustomer"] is False
    by_key = sales.get(f"contacts(msdynce_contactnumber='{row['msdynce_contactnumber']}')")
    assert by_key.status_code == 200 and by_key.json()["contactid"] == contact
    assert sales.patch(f"contacts({contact})", json={"parentcustomerid_account@odata.bind": None}).status_code == 204
    assert _row(tenant, "contacts", "contactid", contact)["msdynce_iscompanyanaccount"] is False


def test_account_numbers_follow_the_p2c_format(sales, tenant):
    account = _id(sales.post("accounts", json={"name": "Numbered Ltd"}))
    assert re.fullmatch(r"ACC-\d{5}-[A-Z]{6}", _row(tenant, "accounts", "accountid", account)["accountnumber"])


def test_a_contact_named_as_customer_becomes_an_active_customer(sales, tenant, refs):
    contact = _id(sales.post("contacts", json={"firstname": "Grace", "lastname": "Hopper"}))
    assert _row(tenant, "contacts", "contactid", contact)["msdynce_isactivecustomer"] is False
    quote = _id(sales.post("quotes", json={"name": "For Grace", "customerid_contact@odata.bind": f"/contacts({contact})"}))
    assert _row(tenant, "quotes", "quoteid", quote)["_customerid_value"] == contact
    assert re.fullmatch(r"QUO-\d{5}-[A-Z0-9]{6}", _row(tenant, "quotes", "quoteid", quote)["quotenumber"])
    assert _row(tenant, "contacts", "contactid", contact)["msdynce_isactivecustomer"] is True


def test_products_flag_follows_the_lines_and_is_copied_on_them(sales, tenant, refs):
    quote, (line,) = _document(sales, refs, "quotes", "quotedetails", "quoteid", ("customerid_account@odata.bind", f"/accounts({refs['account']})"))
    assert _row(tenant, "quotes", "quoteid", quote)["msdynce_hasexternallymaintainedproductsonly"] is True
    assert _row(tenant, "quotedetails", "quotedetailid", line)["sequencenumber"] == 1
    sales_line = _id(sales.post("quotedetails", json={"quoteid@odata.bind": f"/quotes({quote})", "quantity": 1,
                                                      "productid@odata.bind": f"/products({refs['sales_product']['productid']})"}))
    assert _row(tenant, "quotes", "quoteid", quote)["msdynce_hasexternallymaintainedproductsonly"] is False
    assert {r["msdynce_quotehasexternalmaintainedproductsonly"] for r in tenant.sales.rows("quotedetails") if r["_quoteid_value"] == quote} == {False}
    assert _row(tenant, "quotedetails", "quotedetailid", sales_line)["sequencenumber"] == 2
    assert sales.delete(f"quotedetails({sales_line})").status_code == 204
    assert _row(tenant, "quotes", "quoteid", quote)["msdynce_hasexternallymaintainedproductsonly"] is True
    assert _row(tenant, "quotedetails", "quotedetailid", line)["msdynce_quotehasexternalmaintainedproductsonly"] is True


def test_an_active_quote_is_read_only_until_revised(sales, tenant, refs):
    quote, (line,) = _document(sales, refs, "quotes", "quotedetails", "quoteid", ("customerid_account@odata.bind", f"/accounts({refs['account']})"))
    assert sales.patch(f"quotes({quote})", json={"statecode": 1, "statuscode": 2}).status_code == 204
    refused = sales.patch(f"quotes({quote})", json={"name": "Changed"})
    assert refused.status_code == 400 and refused.json()["error"]["message"] == "Cannot Update a Read-Only Entity"
    assert sales.patch(f"quotedetails({line})", json={"quantity": 5}).status_code == 400
    assert sales.patch(f"quotes({quote})", json={"statecode": 0, "statuscode": 1}).status_code == 204
    assert sales.patch(f"quotes({quote})", json={"name": "Changed"}).status_code == 204


def test_order_activation_needs_externally_maintained_products_and_locks_the_order(sales, tenant, refs):
    customer = ("customerid_account@odata.bind", f"/accounts({refs['account']})")
    mixed, _ = _document(sales, refs, "salesorders", "salesorderdetails", "salesorderid", customer, ("fno_product", "sales_product"))
    refused = sales.patch(f"salesorders({mixed})", json={"msdynce_processingstatus": 647390000})
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "0x80040265"
    order, lines = _document(sales, refs, "salesorders", "salesorderdetails", "salesorderid", customer)
    stored = _row(tenant, "salesorders", "salesorderid", order)
    assert stored["msdynce_processingstatus"] == 647390011 and re.fullmatch(r"ORD-\d{5}-[A-Z0-9]{6}", stored["ordernumber"])
    assert _row(tenant, "salesorderdetails", "salesorderdetailid", lines[0])["msdynce_orderissubmitted"] is False
    assert sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": 647390000}).status_code == 204
    assert _row(tenant, "salesorderdetails", "salesorderdetailid", lines[0])["msdynce_orderissubmitted"] is True
    locked = sales.patch(f"salesorders({order})", json={"name": "Renamed after activation"})
    assert locked.status_code == 400 and locked.json()["error"]["code"] == "0x80040265"
    assert sales.patch(f"salesorders({order})", json={"msdynce_processingstatus": 647390001, "name": "Rule test"}).status_code == 204


def test_one_freight_tax_line_kept_from_the_misc_tax(sales, tenant, refs):
    order, _ = _document(sales, refs, "salesorders", "salesorderdetails", "salesorderid",
                         ("customerid_account@odata.bind", f"/accounts({refs['account']})"))
    assert sales.patch(f"salesorders({order})", json={"msdynce_misctax": 12.5}).status_code == 204
    freight = [r for r in tenant.sales.rows("salesorderdetails") if r["_salesorderid_value"] == order and r["msdynce_ismisctax"]]
    assert len(freight) == 1 and freight[0]["productdescription"] == "Freight Tax" and freight[0]["priceperunit"] == 12.5
    assert _row(tenant, "salesorders", "salesorderid", order)["msdynce_hasexternallymaintainedproductsonly"] is True
    second = sales.post("salesorderdetails", json={"salesorderid@odata.bind": f"/salesorders({order})", "isproductoverridden": True,
                                                   "productdescription": "Freight Tax", "msdynce_ismisctax": True, "quantity": 1})
    assert second.status_code == 400
    assert second.json()["error"] == {"code": "0x80040265", "message": "Sales order can not contain more than one Freight tax"}
    assert sales.patch(f"salesorders({order})", json={"msdynce_misctax": 0}).status_code == 204
    assert not [r for r in tenant.sales.rows("salesorderdetails") if r["_salesorderid_value"] == order and r["msdynce_ismisctax"]]


def test_an_order_becomes_invoiced_when_its_invoices_arrive(sales, tenant, refs):
    customer = ("customerid_account@odata.bind", f"/accounts({refs['account']})")
    order, lines = _document(sales, refs, "salesorders", "salesorderdetails", "salesorderid", customer, ("fno_product", "fno_product"))
    owner = _row(tenant, "salesorders", "salesorderid", order)["_ownerid_value"]
    invoice = _id(sales.post("invoices", json={"name": "INV", "invoicenumber": "CIV-900001", customer[0]: customer[1],
                                               "salesorderid@odata.bind": f"/salesorders({order})"}))
    assert _row(tenant, "invoices", "invoiceid", invoice)["_ownerid_value"] == owner
    product = f"/products({refs['fno_product']['productid']})"
    sales.post("invoicedetails", json={"invoiceid@odata.bind": f"/invoices({invoice})", "productid@odata.bind": product, "quantity": 2})
    partial = _row(tenant, "salesorders", "salesorderid", order)
    assert (partial["msdynce_processingstatus"], partial["statecode"]) == (647390009, 0)
    line = _id(sales.post("invoicedetails", json={"invoiceid@odata.bind": f"/invoices({invoice})", "productid@odata.bind": product,
                                                  "quantity": 2}))
    assert _row(tenant, "invoicedetails", "invoicedetailid", line)["msdynce_invoicenumber"] == "CIV-900001"
    full = _row(tenant, "salesorders", "salesorderid", order)
    assert (full["msdynce_processingstatus"], full["statecode"], full["statuscode"]) == (647390003, 4, 100003)


def test_an_externally_maintained_product_joins_the_first_price_list_of_its_currency(sales, tenant, refs):
    product = _id(sales.post("products", json={"productnumber": "D-RULE-1", "name": "Rule bike", "price": 99.5,
                                               "msdynce_ismaintainedexternally": True,
                                               "transactioncurrencyid@odata.bind": f"/transactioncurrencies({refs['usd']})"}))
    lists = {p["pricelevelid"]: p["name"] for p in tenant.sales.rows("pricelevels")}
    entries = [e for e in tenant.sales.rows("productpricelevels") if e["_productid_value"] == product]
    assert [(lists[e["_pricelevelid_value"]], e["amount"]) for e in entries] == [("CRM Service USA (sample)", 99.5)]
