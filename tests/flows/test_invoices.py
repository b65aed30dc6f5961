"""Invoices → Sales end to end: invoices of externally maintained customers come to Sales with their lines,
linked to their order; the order becomes Partially Invoiced or Invoiced and the invoice gets the order's
owner; an invoice of F&O's own customer stays out; then no writes."""

from decimal import Decimal

from emulate.fno import sales_process
from transform.ids import deterministic_id

from tests.flows.conftest import DOCUMENT_STAGING, add_models, money, no_failures, writes_to

ORDERS = ("sources/orders.toml", *DOCUMENT_STAGING, "staging/stg_sales__salesorders.sql",
          "staging/stg_sales__salesorderdetails.sql", "staging/stg_fno__sales_orders.sql",
          "staging/stg_fno__sales_order_lines.sql", "staging/stg_fno__salesorder_values.sql",
          "flows/order_headers_from_salesorders.sql", "flows/order_lines_from_salesorderdetails.sql",
          "flows/salesorders_from_fno_orders.sql", "flows/salesorders_status_from_fno_orders.sql",
          "flows/salesorderdetails_from_fno_order_lines.sql")
INVOICES = ("sources/invoices.toml", "staging/stg_fno__invoices.sql", "staging/stg_fno__invoice_lines.sql",
            "flows/invoices_from_fno_invoices.sql", "flows/invoicedetails_from_fno_invoice_lines.sql")
ENTITIES = ("CDSSalesOrderHeaders", "CDSSalesOrderLines", "salesorders", "salesorderdetails", "invoices", "invoicedetails")
INVOICED, PARTIALLY_INVOICED = 647390003, 647390009


def test_invoices_of_externally_maintained_customers_come_to_sales(flow_run, tenant):
    run = flow_run("accounts", "contacts", "products")
    add_models(run, ORDERS + INVOICES)
    assert not tenant.fno.rows("ExternallyMaintainedCustomerSalesInvoiceHeaders")  # demo F&O customers are its own
    no_failures(run())  # customers and the activated Sales orders reach F&O

    store = tenant.fno.store
    sales_orders = {o["ordernumber"]: o for o in tenant.sales.rows("salesorders")}
    fno_lines = tenant.fno.rows("CDSSalesOrderLines")
    from_sales = sorted(o["SalesOrderNumber"] for o in tenant.fno.rows("CDSSalesOrderHeaders") if o["SalesOrderNumber"].startswith("ORD-"))
    multi_line = [n for n in from_sales if sum(1 for l in fno_lines if l["SalesOrderNumber"] == n) >= 2]
    full, partial = from_sales[0] if from_sales[0] not in multi_line[:1] else from_sales[1], multi_line[0]
    customer = next(o["OrderingCustomerAccountNumber"] for o in tenant.fno.rows("CDSSalesOrderHeaders") if o["SalesOrderNumber"] == full)
    product = next(l["ProductNumber"] for l in fno_lines if l["SalesOrderNumber"] == full)
    entered = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": customer}, [
        {"ProductNumber": product, "OrderedSalesQuantity": Decimal(2)}])
    own = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": "US-001"}, [
        {"ProductNumber": product, "OrderedSalesQuantity": Decimal(1)}])
    for number in (full, partial, entered, own):
        sales_process.confirm_order(store, "usmf", number)
        sales_process.deliver_order(store, "usmf", number)
    invoices = {number: sales_process.invoice_order(store, "usmf", number) for number in (full, entered, own)}
    invoices[partial] = sales_process.invoice_order(store, "usmf", partial, line_numbers=[1])
    sales_process.calculate_sales_totals(store)

    second = run()
    no_failures(second)
    in_sales = {i["invoicenumber"]: i for i in tenant.sales.rows("invoices")}
    posted = {h["InvoiceNumber"]: h for h in tenant.fno.rows("ExternallyMaintainedCustomerSalesInvoiceHeaders")}
    assert set(posted) == {invoices[n] for n in (full, partial, entered)}  # F&O's own customer: not in the entity
    assert set(in_sales) == set(posted)  # exactly the externally maintained customers' invoices
    orders = {o["ordernumber"]: o for o in tenant.sales.rows("salesorders")}
    numbers = {a["accountid"]: a["accountnumber"] for a in tenant.sales.rows("accounts")}
    numbers |= {c["contactid"]: c["msdynce_contactnumber"] for c in tenant.sales.rows("contacts")}
    for order_number in (full, partial, entered):
        invoice, header = in_sales[invoices[order_number]], posted[invoices[order_number]]
        order = orders[order_number]
        assert invoice["_salesorderid_value"] == order["salesorderid"]
        assert invoice["_ownerid_value"] == order["_ownerid_value"]  # the invoice's owner is the order's owner
        assert numbers[invoice["_customerid_value"]] == header["InvoiceCustomerAccountNumber"]
        assert money(invoice["totalamount"]) == money(header["TotalInvoiceAmount"])
        assert invoice["msdynce_ismaintainedexternally"] is True
        assert invoice["msdynce_invoicedate"] == str(header["InvoiceDate"])[:10]
        details = {d["sequencenumber"]: d for d in tenant.sales.rows("invoicedetails") if d["_invoiceid_value"] == invoice["invoiceid"]}
        lines = {l["LineCreationSequenceNumber"]: l for l in tenant.fno.rows("ExternallyMaintainedCustomerSalesInvoiceLines")
                 if l["InvoiceNumber"] == header["InvoiceNumber"]}
        assert set(details) == set(lines)
        for sequence, line in lines.items():
            assert (money(details[sequence]["quantity"]), money(details[sequence]["extendedamount"]), details[sequence]["msdynce_invoicenumber"]) \
                == (money(line["InvoicedQuantity"]), money(line["LineAmount"]), header["InvoiceNumber"])
    assert in_sales[invoices[entered]]["invoiceid"] == deterministic_id("invoices", invoices[entered])
    for number in (full, entered):
        assert (orders[number]["msdynce_processingstatus"], orders[number]["statecode"], orders[number]["statuscode"]) == (INVOICED, 4, 100003)
    assert (orders[partial]["msdynce_processingstatus"], orders[partial]["statecode"]) == (PARTIALLY_INVOICED, 0)
    assert own not in orders and invoices[own] not in in_sales
    why = run.query("select excluded_because from models.stg_fno__sales_orders where SalesOrderNumber = ?", [own])
    assert why == [("ordering customer US-001 is not externally maintained",)]

    third = run()
    assert writes_to(run, third, ENTITIES) == 0
