"""Demo contacts, products and sales documents of both tenants (part of `demo_data`).

Per unit of scale: 150 contacts, 36 F&O products (variants included) of which 90% are
already in Sales plus 4 Sales-only products, 40 quotes and 40 orders in Sales, 40 orders and
10 quotations in F&O with their lines, and the invoices of the invoiced F&O orders.
Nothing has been synced from Sales yet: F&O's orders belong to its own customers, which are
not externally maintained, so its externally maintained invoice entities start empty and
fill as scenarios invoice orders of synced customers.
"""

import datetime as dt
import random
from decimal import Decimal

from emulate.catalog import (
    CONTACTS, INVOICE_HEADERS, INVOICE_LINES, ORDER_HEADERS, ORDER_LINES, PRODUCT_PRICE_LEVELS, PRODUCTS,
    QUOTATION_HEADERS, QUOTATION_LINES, QUOTE_DETAILS, QUOTES, SALES_ORDER_DETAILS, SALES_ORDERS, SELLABLE_PRODUCTS,
)
from emulate.dataverse.numbering import FIRST_NUMBER, format_number
from emulate.demo_reference import (
    BASE_CREATED, COUNTRIES, DEPARTMENTS, FIRST_NAMES, JOB_TITLES, LAST_NAMES, PRODUCT_STYLES, PRODUCT_WORDS, STREETS,
    VARIANT_COLORS, guid,
)
from emulate.demo_fno_documents import fno_invoice, fno_order, fno_quotation
from emulate.fno import rules as fno_rules

CONTACTS_PER_SCALE, PRODUCTS_PER_SCALE, SALES_ONLY_PRODUCTS = 150, 36, 4
QUOTES_PER_SCALE, ORDERS_PER_SCALE, FNO_ORDERS_PER_SCALE, FNO_QUOTATIONS_PER_SCALE = 40, 40, 40, 10
DRAFT, ACTIVE = 647390011, 647390000
DAY = dt.timedelta(days=1)


def _when(rng: random.Random) -> dt.datetime:
    return BASE_CREATED + dt.timedelta(minutes=rng.randrange(0, 700 * 24 * 60))


def product_rows(rng: random.Random, count: int) -> list[dict]:
    """usmf's sellable products: items, services and colour variants (each variant its own product)."""
    products = []
    for index in range(count):
        kind = index % 12
        name = f"{rng.choice(PRODUCT_STYLES)} {rng.choice(PRODUCT_WORDS)}"
        if kind >= 9:  # three colour variants of one master
            master = index - kind + 9
            number, name = f"V{1000 + master}-{VARIANT_COLORS[kind - 9].upper()}", f"{name} - {VARIANT_COLORS[kind - 9]}"
        else:
            number = f"D{1000 + index:05d}"
        service = kind == 8
        price = Decimal(rng.randrange(500, 250000)) / 100
        products.append({"dataAreaId": "usmf", "ProductNumber": number, "ProductName": name,
                         "ProductDescription": f"{name} ({'service' if service else 'item'})",
                         "SalesUnitSymbol": "hr" if service else rng.choice(("ea", "pcs", "box", "set")),
                         "InventoryUnitSymbol": "hr" if service else "ea", "CurrencyCode": "USD", "SalesPrice": price,
                         "UnitCost": (price * Decimal("0.6")).quantize(Decimal("0.01")), "SalesUnitDecimalPrecision": 0,
                         "InventoryUnitDecimalPrecision": 0, "ProductType": "Service" if service else "Item",
                         "IsSalesStopped": "Yes" if rng.random() < 0.02 else "No", "IsStockedProduct": "No" if service else "Yes"})
    return products


def contact_row(rng: random.Random, seed: int, index: int, accounts: list[str], refs: dict) -> dict:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    country, _, currency, _, cities = rng.choices(COUNTRIES, [c[3] for c in COUNTRIES])[0]
    city, state, county, postal = rng.choice(cities)
    parent = rng.choice(accounts) if rng.random() < 0.75 else None
    created = _when(rng)
    return {"contactid": guid(rng), "msdynce_contactnumber": format_number("contacts", FIRST_NUMBER + index, seed),
            "firstname": first, "lastname": last, "fullname": f"{first} {last}", "middlename": None,
            "jobtitle": rng.choice(JOB_TITLES), "department": rng.choice(DEPARTMENTS),
            "emailaddress1": f"{first}.{last}{index}@mail.example".lower().replace("'", ""),
            "telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            "address1_line1": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}", "address1_city": city,
            "address1_stateorprovince": state or None, "address1_postalcode": f"{postal}{rng.randrange(10, 99)}",
            "address1_county": county or None, "address1_country": country,
            "gendercode": rng.choice((1, 2, None)), "familystatuscode": rng.choice((1, 2, 3, None)),
            "accountrolecode": rng.choice((1, 2, 3, None)), "_parentcustomerid_value": parent,
            "_transactioncurrencyid_value": refs["currencies"][currency], "msdynce_isactivecustomer": index % 5 == 0,
            "msdynce_iscompanyanaccount": parent is not None, "statecode": 0, "statuscode": 1,
            "_ownerid_value": rng.choice(refs["owners"]), "createdon": created, "modifiedon": created + DAY, "versionnumber": 0}


def sales_document(kind: str, rng: random.Random, seed: int, index: int, refs: dict) -> tuple[dict, list[dict]]:
    """A Sales quote or order with its lines; `index` 0 carries the quantity-3 / discount-10.00 line, order 1 a write-in."""
    header_key, line_key, parent, number_set = {
        "quote": ("quoteid", "quotedetailid", "_quoteid_value", "quotes"),
        "order": ("salesorderid", "salesorderdetailid", "_salesorderid_value", "salesorders")}[kind]
    customer = rng.choice(refs["customer_contacts"]) if rng.random() < 0.25 else rng.choice(refs["accounts"])
    created = _when(rng)
    header = {header_key: guid(rng), "name": f"{rng.choice(PRODUCT_STYLES)} deal {index + 1}",
              "_customerid_value": customer, "_transactioncurrencyid_value": refs["currencies"]["USD"],
              "_pricelevelid_value": refs["price_lists"]["CRM Service USA (sample)"], "_ownerid_value": rng.choice(refs["owners"]),
              "shipto_line1": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}", "shipto_city": rng.choice(COUNTRIES[0][4])[0],
              "shipto_country": rng.choice(("United States", None, "Canada")), "requestdeliveryby": (created + 30 * DAY).date(),
              "createdon": created, "modifiedon": created + DAY, "versionnumber": 0}
    header["quotenumber" if kind == "quote" else "ordernumber"] = format_number(number_set, FIRST_NUMBER + index, seed)
    lines, external_only, total = [], True, Decimal(0)
    for sequence in range(1, rng.randint(1, 4) + 1):
        product = rng.choice(refs["sales_products"] if rng.random() < 0.05 else refs["mirrored_products"])
        quantity = Decimal(rng.randint(1, 20))
        discount = Decimal(rng.choice((0, 0, 0, 5, 25))).quantize(Decimal("0.01"))
        if index == 0 and sequence == 1:
            quantity, discount = Decimal(3), Decimal("10.00")
        line = {line_key: guid(rng), parent: header[header_key], "sequencenumber": sequence, "_productid_value": product["productid"],
                "isproductoverridden": False, "quantity": quantity, "_uomid_value": refs["units"][product["unit"]],
                "priceperunit": product["price"], "manualdiscountamount": discount, "tax": Decimal(0),
                "_transactioncurrencyid_value": refs["currencies"]["USD"], "msdynce_ismaintainedexternally": False,
                "createdon": created, "modifiedon": created + DAY, "versionnumber": 0}
        if kind == "order" and index == 1 and sequence == 1:  # a write-in product
            line.update({"_productid_value": None, "isproductoverridden": True, "productdescription": "Custom engraving",
                         "_uomid_value": refs["units"]["ea"]})
        external_only &= line["isproductoverridden"] is False and product["external"]
        line["baseamount"] = quantity * line["priceperunit"]
        line["extendedamount"] = line["baseamount"] - discount
        total += line["extendedamount"]
        lines.append(line)
    header.update({"totallineitemamount": total, "totalamount": total, "totalamountlessfreight": total, "totaltax": Decimal(0),
                   "msdynce_hasexternallymaintainedproductsonly": external_only, "msdynce_ismaintainedexternally": False})
    copy = "msdynce_quotehasexternalmaintainedproductsonly" if kind == "quote" else "msdynce_orderhasexternalmaintainedproductsonly"
    for line in lines:
        line[copy] = external_only
    if kind == "quote":  # activated, not activated (draft) or won
        state = rng.choices(((1, 2), (0, 1), (2, 4)), (60, 30, 10))[0] if external_only else (0, 1)
        header.update({"statecode": state[0], "statuscode": state[1], "revisionnumber": 0, "effectiveto": (created + 60 * DAY).date()})
    else:
        activated = external_only and rng.random() < 0.5
        header.update({"msdynce_processingstatus": ACTIVE if activated else DRAFT, "statecode": 0, "statuscode": 1})
        for line in lines:
            line.update({"msdynce_orderissubmitted": activated, "msdynce_ismisctax": False, "msdynce_ordernumber": header["ordernumber"]})
    return header, lines


def seed_documents(cur, writer, seed: int, scale: int, refs: dict) -> dict[str, int]:
    """Write contacts, products and documents of both sides; returns next numbers (Sales entity set or F&O sequence -> start)."""
    rng = random.Random(f"{seed}:documents")
    fno_products = product_rows(rng, PRODUCTS_PER_SCALE * scale)
    writer.add_all(SELLABLE_PRODUCTS, iter(fno_products))
    _sales_products(rng, writer, fno_products, scale, refs)
    customer_contacts = []
    for index in range(CONTACTS_PER_SCALE * scale):
        contact = contact_row(rng, seed, index, refs["accounts"], refs)
        writer.add(CONTACTS, contact)
        if contact["msdynce_isactivecustomer"]:
            customer_contacts.append(contact["contactid"])
    refs = {**refs, "customer_contacts": customer_contacts}
    for kind, count, header_set, line_set in (("quote", QUOTES_PER_SCALE, QUOTES, QUOTE_DETAILS),
                                              ("order", ORDERS_PER_SCALE, SALES_ORDERS, SALES_ORDER_DETAILS)):
        for index in range(count * scale):
            header, lines = sales_document(kind, rng, seed, index, refs)
            writer.add(header_set, header)
            writer.add_all(line_set, iter(lines))
    sellable = [p for p in fno_products if p["IsSalesStopped"] == "No"]
    customers = refs["fno_customers"]
    invoices = 0
    for index in range(FNO_ORDERS_PER_SCALE * scale):
        header, lines = fno_order(rng, index, customers, sellable)
        writer.add(ORDER_HEADERS, header)
        writer.add_all(ORDER_LINES, iter(lines))
        if header["OrderingCustomerIsExternallyMaintained"] == "Yes" and any(l["SalesOrderLineStatus"] == "Invoiced" for l in lines):
            invoices += 1
            invoice, invoice_lines = fno_invoice(invoices, header, lines)
            writer.add(INVOICE_HEADERS, invoice)
            writer.add_all(INVOICE_LINES, iter(invoice_lines))
    for index in range(FNO_QUOTATIONS_PER_SCALE * scale):
        header, lines = fno_quotation(rng, index, customers, sellable)
        writer.add(QUOTATION_HEADERS, header)
        writer.add_all(QUOTATION_LINES, iter(lines))
    return {"contacts": FIRST_NUMBER + CONTACTS_PER_SCALE * scale, "quotes": FIRST_NUMBER + QUOTES_PER_SCALE * scale,
            "salesorders": FIRST_NUMBER + ORDERS_PER_SCALE * scale, "invoices": FIRST_NUMBER,
            fno_rules.NUMBER_SEQUENCES["CDSSalesOrderHeaders"][2]: FNO_ORDERS_PER_SCALE * scale + 1,
            fno_rules.NUMBER_SEQUENCES["CDSSalesQuotationHeaders"][2]: FNO_QUOTATIONS_PER_SCALE * scale + 1,
            fno_rules.INVOICE_SEQUENCE: invoices + 1, fno_rules.VOUCHER_SEQUENCE: invoices + 1}


def _sales_products(rng: random.Random, writer, fno_products: list[dict], scale: int, refs: dict) -> None:
    """90% of F&O's products as synced to Sales (with their price-list entry) plus a few Sales-only products."""
    mirrored, native = [], []
    for index, fno_product in enumerate(fno_products):
        if index % 10 == 5:
            continue  # new in F&O, not yet synced
        product = {"productid": guid(rng), "productnumber": fno_product["ProductNumber"], "name": fno_product["ProductName"],
                   "description": fno_product["ProductDescription"], "producttypecode": 3 if fno_product["ProductType"] == "Service" else 1,
                   "_defaultuomid_value": refs["units"][fno_product["SalesUnitSymbol"]], "_defaultuomscheduleid_value": refs["schedule"],
                   "_transactioncurrencyid_value": refs["currencies"]["USD"], "price": fno_product["SalesPrice"],
                   "currentcost": fno_product["UnitCost"], "msdynce_ismaintainedexternally": True, "statecode": 0, "statuscode": 1,
                   "createdon": BASE_CREATED, "modifiedon": BASE_CREATED + DAY, "versionnumber": 0}
        writer.add(PRODUCTS, product)
        writer.add(PRODUCT_PRICE_LEVELS, {"productpricelevelid": guid(rng), "_pricelevelid_value": refs["price_lists"]["CRM Service USA (sample)"],
                                          "_productid_value": product["productid"], "_uomid_value": product["_defaultuomid_value"],
                                          "_uomscheduleid_value": refs["schedule"], "_transactioncurrencyid_value": refs["currencies"]["USD"],
                                          "amount": product["price"], "createdon": BASE_CREATED, "modifiedon": BASE_CREATED + DAY,
                                          "versionnumber": 0})
        mirrored.append({"productid": product["productid"], "price": product["price"], "unit": fno_product["SalesUnitSymbol"],
                         "external": True})
    for index in range(SALES_ONLY_PRODUCTS * scale):
        price = Decimal(rng.randrange(1000, 50000)) / 100
        product = {"productid": guid(rng), "productnumber": f"S-{index + 1:05d}", "name": f"Sales kit {index + 1}",
                   "producttypecode": 1, "_defaultuomid_value": refs["units"]["ea"], "_defaultuomscheduleid_value": refs["schedule"],
                   "_transactioncurrencyid_value": refs["currencies"]["USD"], "price": price, "msdynce_ismaintainedexternally": False,
                   "statecode": 0, "statuscode": 1, "createdon": BASE_CREATED, "modifiedon": BASE_CREATED + DAY, "versionnumber": 0}
        writer.add(PRODUCTS, product)
        native.append({"productid": product["productid"], "price": price, "unit": "ea", "external": False})
    refs["mirrored_products"], refs["sales_products"] = mirrored, native
