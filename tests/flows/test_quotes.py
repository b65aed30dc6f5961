"""Quotes → F&O sales quotations end to end: exactly the activated quotes of F&O products, the discount
rule on their lines, the others absent with the reason in the staging database, then no writes."""

from decimal import ROUND_HALF_UP, Decimal

from emulate.scenario_client import SalesUser
from emulate.scenarios import activate_quotes

from tests.flows.conftest import DOCUMENT_STAGING, add_models, writes_to

QUOTES = ("sources/quotes.toml", *DOCUMENT_STAGING, "staging/stg_sales__quotes.sql", "staging/stg_sales__quotedetails.sql",
          "flows/quotation_headers_from_quotes.sql", "flows/quotation_lines_from_quotedetails.sql")
QUOTE_ENTITIES = ("CDSSalesQuotationHeaders", "CDSSalesQuotationLines")


def test_activated_quotes_of_fno_products_become_quotations(flow_run, tenant):
    run = flow_run("accounts", "contacts", "products")
    add_models(run, QUOTES)
    activate_quotes(tenant, 2, seed=3)  # a Sales user activates two more drafts before the sync
    foreign_id = next(q["quoteid"] for q in tenant.sales.rows("quotes")
                      if q["statecode"] == 0 and not q["msdynce_hasexternallymaintainedproductsonly"])
    with SalesUser(tenant) as user:  # ... and one whose products are not all maintained in F&O
        user.update("quotes", foreign_id, {"statecode": 1, "statuscode": 2})

    first = run()
    assert all(first["targets"].get(f"fno.{e}", {}).get("failed", 1) == 0 for e in QUOTE_ENTITIES), first["targets"]

    quotes = {q["quoteid"]: q for q in tenant.sales.rows("quotes")}
    lines = tenant.sales.rows("quotedetails")
    products = {p["productid"]: p for p in tenant.sales.rows("products")}
    units = {u["uomid"]: u["name"] for u in tenant.sales.rows("uoms")}
    numbers = {a["accountid"]: a["accountnumber"] for a in tenant.sales.rows("accounts")}
    numbers |= {c["contactid"]: c["msdynce_contactnumber"] for c in tenant.sales.rows("contacts")}
    fno_customers = {c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf"}

    def only_fno_products(quote_id: str) -> bool:
        mine = [line for line in lines if line["_quoteid_value"] == quote_id]
        return all(not line["isproductoverridden"] and line["_productid_value"]
                   and products[line["_productid_value"]]["msdynce_ismaintainedexternally"] for line in mine)

    eligible = {q["quotenumber"] for q in quotes.values()
                if q["statecode"] == 1 and q["msdynce_hasexternallymaintainedproductsonly"] and only_fno_products(q["quoteid"])
                and numbers.get(q["_customerid_value"]) in fno_customers}
    headers = {h["SalesQuotationNumber"]: h for h in tenant.fno.rows("CDSSalesQuotationHeaders")
               if h["dataAreaId"] == "usmf" and h["SalesQuotationNumber"].startswith("QUO-")}
    assert eligible and set(headers) == eligible  # exactly the quotes the rules call for

    by_number = {q["quotenumber"]: q for q in quotes.values()}
    fno_lines = {(l["SalesQuotationNumber"], l["LineCreationSequenceNumber"]): l for l in tenant.fno.rows("CDSSalesQuotationLines")
                 if l["dataAreaId"] == "usmf"}
    for number, header in headers.items():
        quote = by_number[number]
        assert header["RequestingCustomerAccountNumber"] == numbers[quote["_customerid_value"]]
        assert header["SalesQuotationName"] == (quote["name"] or "")
        for line in (l for l in lines if l["_quoteid_value"] == quote["quoteid"]):
            sent = fno_lines[(number, line["sequencenumber"])]
            assert sent["ProductNumber"] == products[line["_productid_value"]]["productnumber"]
            assert sent["SalesUnitSymbol"] == units[line["_uomid_value"]]
            assert Decimal(str(sent["RequestedSalesQuantity"])) == Decimal(str(line["quantity"]))
            discount = Decimal(str(line["manualdiscountamount"] or 0))
            per_unit = (discount / Decimal(str(line["quantity"]))).quantize(Decimal("0.01"), ROUND_HALF_UP)  # F&O rounds half up
            assert Decimal(str(sent["LineDiscountAmount"])) == per_unit
            assert Decimal(str(sent["LineDiscountAmount"])) * Decimal(str(line["quantity"])) \
                - Decimal(str(sent["FixedPriceCharges"])) == discount  # Sales' full discount comes back exactly

    # the documented example: quantity 3, discount 10.00 -> 3.33 per unit and a -0.01 charge
    first_quote = next(n for n in headers if n.startswith("QUO-01000-"))
    assert (Decimal(str(fno_lines[(first_quote, 1)]["LineDiscountAmount"])),
            Decimal(str(fno_lines[(first_quote, 1)]["FixedPriceCharges"]))) == (Decimal("3.33"), Decimal("-0.01"))

    # quotes that must not sync are absent, and the staging database says why
    draft = next(q["quotenumber"] for q in quotes.values() if q["statecode"] == 0 and q["msdynce_hasexternallymaintainedproductsonly"])
    foreign = quotes[foreign_id]["quotenumber"]
    assert quotes[foreign_id]["statecode"] == 1 and not only_fno_products(foreign_id)
    assert draft not in headers and foreign not in headers
    reasons = dict(run.query("select quotenumber, excluded_because from models.stg_sales__quotes where quotenumber in (?, ?)",
                             [draft, foreign]))
    assert reasons[draft] == "not activated (statecode 0)"
    assert reasons[foreign] == "has a write-in product or a product not maintained in F&O"
    assert run.query("select count(*) from models.stg_sales__quotes where excluded_because is null")[0][0] == len(eligible)

    second = run()
    assert writes_to(run, second, QUOTE_ENTITIES) == 0
    assert not any(f"fno.{e}" in second["targets"] for e in QUOTE_ENTITIES)
