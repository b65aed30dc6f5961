"""Orders both ways end to end: activated Sales orders go to F&O (owned by Sales until then), F&O confirms
them and owns them from then on, F&O's own confirmed orders come to Sales; the discount rule both ways, the
Freight Tax line, the orders that must not sync absent with the reason in the staging database, then no writes."""

from decimal import Decimal

from emulate.catalog import ORDER_LINES
from emulate.fno import sales_process
from transform.ids import deterministic_id

from tests.flows.conftest import DOCUMENT_STAGING, add_models, money, no_failures, writes_to

ORDERS = ("sources/orders.toml", *DOCUMENT_STAGING, "staging/stg_sales__salesorders.sql",
          "staging/stg_sales__salesorderdetails.sql", "staging/stg_fno__sales_orders.sql",
          "staging/stg_fno__sales_order_lines.sql", "staging/stg_fno__salesorder_values.sql",
          "flows/order_headers_from_salesorders.sql", "flows/order_lines_from_salesorderdetails.sql",
          "flows/salesorders_from_fno_orders.sql", "flows/salesorders_status_from_fno_orders.sql",
          "flows/salesorderdetails_from_fno_order_lines.sql")
ORDER_ENTITIES = ("CDSSalesOrderHeaders", "CDSSalesOrderLines", "salesorders", "salesorderdetails")
DRAFT, ACTIVE, CONFIRMED = 647390011, 647390000, 647390001


def fno_orders(tenant) -> dict[str, dict]:
    return {o["SalesOrderNumber"]: o for o in tenant.fno.rows("CDSSalesOrderHeaders") if o["dataAreaId"] == "usmf"}


def fno_lines(tenant, number: str) -> dict[int, dict]:
    return {l["LineCreationSequenceNumber"]: l for l in tenant.fno.rows("CDSSalesOrderLines")
            if l["dataAreaId"] == "usmf" and l["SalesOrderNumber"] == number}


def sales_orders(tenant) -> dict[str, dict]:
    return {o["ordernumber"]: o for o in tenant.sales.rows("salesorders")}


def sales_lines(tenant, order_id: str) -> list[dict]:
    return [l for l in tenant.sales.rows("salesorderdetails") if l["_salesorderid_value"] == order_id]


def test_orders_go_to_fno_until_confirmed_and_come_back_after(flow_run, tenant):
    run = flow_run("accounts", "contacts", "products")
    add_models(run, ORDERS)
    products = {p["productid"]: p for p in tenant.sales.rows("products")}
    numbers = {a["accountid"]: a["accountnumber"] for a in tenant.sales.rows("accounts")}
    numbers |= {c["contactid"]: c["msdynce_contactnumber"] for c in tenant.sales.rows("contacts")}
    native_before = {n for n in fno_orders(tenant) if n.startswith("SO-")}

    # --- run 1: activated Sales orders of F&O products go to F&O, owned by Sales until this first insert
    first = run()
    no_failures(first)
    fno_customers = {c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf"}
    orders = sales_orders(tenant)

    def only_fno_products(order: dict) -> bool:
        return all(not l["isproductoverridden"] and l["_productid_value"]
                   and products[l["_productid_value"]]["msdynce_ismaintainedexternally"]
                   for l in sales_lines(tenant, order["salesorderid"]) if not l["msdynce_ismisctax"])

    eligible = {n for n, o in orders.items() if o["msdynce_processingstatus"] == ACTIVE and not o["msdynce_ismaintainedexternally"]
                and only_fno_products(o) and numbers.get(o["_customerid_value"]) in fno_customers}
    in_fno = fno_orders(tenant)
    assert eligible and {n for n in in_fno if n.startswith("ORD-")} == eligible
    for number in eligible:
        order, header = orders[number], in_fno[number]
        assert header["OrderingCustomerAccountNumber"] == numbers[order["_customerid_value"]]
        assert header["SalesOrderProcessingStatus"] == "Active"
        lines = fno_lines(tenant, number)
        assert set(lines) == {l["sequencenumber"] for l in sales_lines(tenant, order["salesorderid"])}
        for line in sales_lines(tenant, order["salesorderid"]):
            sent = lines[line["sequencenumber"]]
            assert sent["ProductNumber"] == products[line["_productid_value"]]["productnumber"]
            assert money(sent["SalesPrice"]) == money(products[line["_productid_value"]]["price"])  # F&O's own price
            assert Decimal(str(sent["OrderedSalesQuantity"])) * money(sent["LineDiscountAmount"]) \
                - money(sent["FixedPriceCharges"]) == money(line["manualdiscountamount"])
    discounted = next(n for n in eligible if n.startswith("ORD-01000-"))  # the documented 3 x 10.00 line
    assert (money(fno_lines(tenant, discounted)[1]["LineDiscountAmount"]),
            money(fno_lines(tenant, discounted)[1]["FixedPriceCharges"])) == (Decimal("3.33"), Decimal("-0.01"))

    draft = next(n for n, o in orders.items() if o["msdynce_processingstatus"] == DRAFT and only_fno_products(o))
    write_in = next(n for n, o in orders.items() if any(l["isproductoverridden"] for l in sales_lines(tenant, o["salesorderid"])))
    assert draft not in in_fno and write_in not in in_fno
    why = dict(run.query("select ordernumber, excluded_because from models.stg_sales__salesorders where ordernumber in (?, ?)",
                         [draft, write_in]))
    assert why[draft] == "not activated (processing status Draft)"
    assert why[write_in] == "has a write-in product or a product not maintained in F&O"

    # --- between runs, in F&O: confirm two of the orders from Sales (one stays unconfirmed), enter and confirm an
    # order of a synced customer with a header tax, enter one left unconfirmed and one of F&O's own customer
    store = tenant.fno.store
    from_sales = sorted(eligible - {discounted})
    confirmed_from_sales = [discounted, from_sales[0]]
    unconfirmed_from_sales = from_sales[1]
    for number in confirmed_from_sales:
        sales_process.confirm_order(store, "usmf", number)
    customer = numbers[orders[discounted]["_customerid_value"]]
    known = products[sales_lines(tenant, orders[discounted]["salesorderid"])[0]["_productid_value"]]["productnumber"]
    lines = [{"ProductNumber": known, "OrderedSalesQuantity": Decimal(3), "LineDiscountAmount": Decimal("3.33"),
              "FixedPriceCharges": Decimal("-0.01")}, {"ProductNumber": known, "OrderedSalesQuantity": Decimal(1)}]
    entered = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": customer, "SalesOrderName": "Phone order",
                                                         "OrderHeaderTaxAmount": Decimal("12.50")}, lines)
    sales_process.confirm_order(store, "usmf", entered)
    unconfirmed = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": customer}, lines[1:])
    foreign = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": "US-001"}, lines[1:])
    sales_process.confirm_order(store, "usmf", foreign)
    sales_process.calculate_sales_totals(store)

    # --- run 2: F&O -> Sales for confirmed orders only
    second = run()
    no_failures(second)
    assert "fno.CDSSalesOrderHeaders" not in second["targets"]  # F&O owns the orders now: nothing goes back to it
    orders = sales_orders(tenant)
    in_fno = fno_orders(tenant)
    for number in confirmed_from_sales:
        order = orders[number]
        assert (order["msdynce_processingstatus"], order["statecode"]) == (CONFIRMED, 0)
        assert not order["msdynce_ismaintainedexternally"]  # it came from Sales (decisions.md 6)
        assert money(order["totalamount"]) == money(in_fno[number]["OrderTotalAmount"])
        assert money(order["totaltax"]) == money(in_fno[number]["OrderTotalTaxAmount"])
        for line in (l for l in sales_lines(tenant, order["salesorderid"]) if not l["msdynce_ismisctax"]):
            assert line["msdynce_ismaintainedexternally"] is True
            assert money(line["tax"]) == money(fno_lines(tenant, number)[line["sequencenumber"]]["TotalTaxAmount"])
    back = next(l for l in sales_lines(tenant, orders[discounted]["salesorderid"]) if l["sequencenumber"] == 1)
    assert money(back["manualdiscountamount"]) == Decimal("10.00")  # 3 x 3.33 - (-0.01)
    assert orders[unconfirmed_from_sales]["msdynce_processingstatus"] == ACTIVE  # not confirmed: nothing came back

    created = orders[entered]
    assert created["salesorderid"] == deterministic_id("salesorders", entered)
    assert created["msdynce_ismaintainedexternally"] is True and created["msdynce_processingstatus"] == CONFIRMED
    assert numbers[created["_customerid_value"]] == customer
    lines_in_sales = sales_lines(tenant, created["salesorderid"])
    freight = [l for l in lines_in_sales if l["msdynce_ismisctax"]]
    assert len(freight) == 1 and freight[0]["productdescription"] == "Freight Tax" and money(freight[0]["priceperunit"]) == Decimal("12.50")
    products_now = {p["productid"]: p["productnumber"] for p in tenant.sales.rows("products")}
    assert sorted((l["sequencenumber"], products_now[l["_productid_value"]], money(l["manualdiscountamount"]))
                  for l in lines_in_sales if not l["msdynce_ismisctax"]) == [(1, known, Decimal("10.00")), (2, known, Decimal("0.00"))]
    assert set(fno_lines(tenant, entered)) == {1, 2}  # the Freight Tax line never flows back to F&O
    assert unconfirmed not in orders and foreign not in orders
    assert not any(n in orders for n in native_before)  # F&O's own customers are not externally maintained
    why = dict(run.query("select SalesOrderNumber, excluded_because from models.stg_fno__sales_orders "
                         "where SalesOrderNumber in (?, ?)", [unconfirmed, foreign]))
    assert why == {unconfirmed: "not confirmed (processing status Active)",
                   foreign: "ordering customer US-001 is not externally maintained"}
    owners = dict(run.query("select ordernumber, _p2c_owner from models.salesorders_status_from_fno_orders "
                            "union all select ordernumber, _p2c_owner from models.salesorders_from_fno_orders"))
    assert owners[discounted] == owners[entered] == "fno"

    # --- run 3: nothing changed, nothing sent
    third = run()
    assert writes_to(run, third, ORDER_ENTITIES) == 0


def test_a_later_fno_change_reaches_the_lines_of_an_order_from_sales(flow_run, tenant):
    """A second update of a line still carries msdynce_ismaintainedexternally = true (target always_send):
    without it the activated order would refuse the write (0x80040265)."""
    run = flow_run("accounts", "contacts", "products")
    add_models(run, ORDERS)
    no_failures(run())
    number = sorted(n for n in fno_orders(tenant) if n.startswith("ORD-"))[0]
    sales_process.confirm_order(tenant.fno.store, "usmf", number)
    sales_process.calculate_sales_totals(tenant.fno.store)
    no_failures(run())  # status back to Sales; every line now marked msdynce_ismaintainedexternally

    with tenant.fno.store.writing() as cur:  # an F&O user changes a quantity of the confirmed order
        sales_process.change(cur, ORDER_LINES, {"dataAreaId": "usmf", "SalesOrderNumber": number,
                                                "LineCreationSequenceNumber": 1}, {"OrderedSalesQuantity": Decimal(7)})
    sales_process.calculate_sales_totals(tenant.fno.store)
    no_failures(run())
    order_id = sales_orders(tenant)[number]["salesorderid"]
    line = next(l for l in sales_lines(tenant, order_id) if l["sequencenumber"] == 1 and not l["msdynce_ismisctax"])
    assert money(line["quantity"]) == Decimal("7.00")
