"""Things users do in the emulated systems between syncs, deterministic for a seed.

Each step is callable on its own and returns what it touched; `business_day` runs a day's
mix on both sides. Sales users work through the Web API (`SalesUser`), F&O users through
`emulate.fno.sales_process`, so every business rule applies to what they do.
"""

import random

from emulate.catalog import ACCOUNTS
from emulate.demo_reference import COUNTRIES, FIRST_NAMES, LAST_NAMES, NAME_HEADS, NAME_TAILS, STREETS
from emulate.scenario_client import SalesUser
from emulate.scenarios_fno import (
    calculate_totals, confirm_fno_orders, create_fno_orders, deliver_fno_orders, edit_fno_products, invoice_fno_orders,
)
from emulate.tenant import EmulatedTenant

DRAFT_ORDER, ACTIVE_ORDER = 647390011, 647390000


def edit_accounts(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """A Sales user edits `count` active accounts (phone, city, sometimes the name).

    Each edit is a normal update: new `modifiedon`, new row version. Returns the
    changed account numbers, sorted.
    """
    rng = random.Random(seed)
    active = sorted((row["accountnumber"], row["accountid"]) for row in tenant.sales.rows("accounts")
                    if row["statecode"] == 0 and row["accountnumber"])
    chosen = rng.sample(active, min(count, len(active)))
    cities = [city for country in COUNTRIES for city, *_ in country[4]]
    for _, account_id in chosen:
        values = {"telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                  "address1_city": rng.choice(cities)}
        if rng.random() < 0.3:
            values["name"] = f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}"
        tenant.sales.writes.edit(ACCOUNTS, account_id, values)
    return sorted(number for number, _ in chosen)


def create_accounts(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """New customers entered in Sales (numbered by P2C); returns their account numbers."""
    rng = random.Random(seed)
    usd = _usd(tenant)
    with SalesUser(tenant) as user:
        created = [user.create("accounts", {
            "name": f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}", "customertypecode": 3,
            "address1_line1": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}", "address1_city": rng.choice(COUNTRIES[0][4])[0],
            "address1_country": rng.choice(("United States", "Canada", None)),
            "telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({usd})"}) for _ in range(count)]
    numbers = {row["accountid"]: row["accountnumber"] for row in tenant.sales.rows("accounts")}
    return [numbers[account_id] for account_id in created]


def create_contacts(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """New contacts, most of them working for an account; returns their contact numbers."""
    rng = random.Random(seed)
    accounts = sorted(row["accountid"] for row in tenant.sales.rows("accounts") if row["statecode"] == 0)
    with SalesUser(tenant) as user:
        created = []
        for _ in range(count):
            body = {"firstname": rng.choice(FIRST_NAMES), "lastname": rng.choice(LAST_NAMES),
                    "telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"}
            if rng.random() < 0.8:
                body["parentcustomerid_account@odata.bind"] = f"/accounts({rng.choice(accounts)})"
            created.append(user.create("contacts", body))
    numbers = {row["contactid"]: row["msdynce_contactnumber"] for row in tenant.sales.rows("contacts")}
    return [numbers[contact_id] for contact_id in created]


def create_quotes(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """Draft quotes with 1-3 lines of F&O products for accounts or contacts; returns the quote ids."""
    return _create_documents(tenant, "quotes", "quotedetails", "quoteid", count, seed)


def create_orders(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """Draft orders with 1-3 lines of F&O products; returns the order ids."""
    return _create_documents(tenant, "salesorders", "salesorderdetails", "salesorderid", count, seed)


def activate_quotes(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """Activate draft quotes whose products are all maintained in F&O (state Active, status In Progress)."""
    drafts = sorted(q["quoteid"] for q in tenant.sales.rows("quotes")
                    if q["statecode"] == 0 and q["msdynce_hasexternallymaintainedproductsonly"])
    chosen = random.Random(seed).sample(drafts, min(count, len(drafts)))
    with SalesUser(tenant) as user:
        for quote_id in chosen:
            user.update("quotes", quote_id, {"statecode": 1, "statuscode": 2})
    return chosen


def activate_orders(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """The P2C Activate command on draft orders that qualify (processing status Active)."""
    drafts = sorted(o["salesorderid"] for o in tenant.sales.rows("salesorders")
                    if o["msdynce_processingstatus"] == DRAFT_ORDER and o["msdynce_hasexternallymaintainedproductsonly"]
                    and not o["msdynce_ismaintainedexternally"] and o["ordernumber"])
    chosen = random.Random(seed).sample(drafts, min(count, len(drafts)))
    with SalesUser(tenant) as user:
        for order_id in chosen:
            user.update("salesorders", order_id, {"msdynce_processingstatus": ACTIVE_ORDER})
    return chosen


def edit_contacts(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """Sales users update job titles and phone numbers of active contacts; returns the contact numbers."""
    rng = random.Random(seed)
    active = sorted((c["msdynce_contactnumber"], c["contactid"]) for c in tenant.sales.rows("contacts") if c["statecode"] == 0)
    chosen = rng.sample(active, min(count, len(active)))
    with SalesUser(tenant) as user:
        for _, contact_id in chosen:
            user.update("contacts", contact_id, {"jobtitle": rng.choice(("Buyer", "CFO", "Owner", "Operations Lead")),
                                                 "telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"})
    return sorted(number for number, _ in chosen)


def delete_draft_quotes(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """Users throw away draft quotes (their lines first, as the app does); returns the quote ids."""
    drafts = sorted(q["quoteid"] for q in tenant.sales.rows("quotes") if q["statecode"] == 0)
    chosen = random.Random(seed).sample(drafts, min(count, len(drafts)))
    lines = tenant.sales.rows("quotedetails")
    with SalesUser(tenant) as user:
        for quote_id in chosen:
            for line in lines:
                if line["_quoteid_value"] == quote_id:
                    user.delete("quotedetails", line["quotedetailid"])
            user.delete("quotes", quote_id)
    return chosen


def business_day(tenant: EmulatedTenant, seed: int) -> dict[str, list]:
    """A day of work on both sides: new parties and documents, activations, F&O order processing, edits, deletes."""
    steps = (
        ("created_accounts", lambda s: create_accounts(tenant, 3, s)),
        ("created_contacts", lambda s: create_contacts(tenant, 4, s)),
        ("created_quotes", lambda s: create_quotes(tenant, 3, s)),
        ("activated_quotes", lambda s: activate_quotes(tenant, 2, s)),
        ("created_orders", lambda s: create_orders(tenant, 3, s)),
        ("activated_orders", lambda s: activate_orders(tenant, 2, s)),
        ("edited_accounts", lambda s: edit_accounts(tenant, 5, s)),
        ("edited_contacts", lambda s: edit_contacts(tenant, 3, s)),
        ("deleted_quotes", lambda s: delete_draft_quotes(tenant, 1, s)),
        ("created_fno_orders", lambda s: create_fno_orders(tenant, 3, s)),
        ("confirmed_fno_orders", lambda s: confirm_fno_orders(tenant, 3, s)),
        ("delivered_fno_orders", lambda s: deliver_fno_orders(tenant, 2, s)),
        ("invoiced_fno_orders", lambda s: invoice_fno_orders(tenant, 2, s)),
        ("edited_fno_products", lambda s: edit_fno_products(tenant, 2, s)),
        ("totals_calculated", lambda s: calculate_totals(tenant)),
    )
    return {name: step(seed * 100 + index) for index, (name, step) in enumerate(steps)}


def _usd(tenant: EmulatedTenant) -> str:
    return next(c["transactioncurrencyid"] for c in tenant.sales.rows("transactioncurrencies") if c["isocurrencycode"] == "USD")


def _create_documents(tenant: EmulatedTenant, header_set: str, line_set: str, parent: str, count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    customers = sorted([("accounts", a["accountid"]) for a in tenant.sales.rows("accounts") if a["statecode"] == 0]
                       + [("contacts", c["contactid"]) for c in tenant.sales.rows("contacts") if c["statecode"] == 0])
    products = sorted((p["productid"], p["_defaultuomid_value"]) for p in tenant.sales.rows("products")
                      if p["msdynce_ismaintainedexternally"] and p["statecode"] == 0)
    price_list = next(p["pricelevelid"] for p in tenant.sales.rows("pricelevels") if p["name"] == "CRM Service USA (sample)")
    usd = _usd(tenant)
    created = []
    with SalesUser(tenant) as user:
        for _ in range(count):
            kind, customer = rng.choice(customers)
            navigation = "customerid_account" if kind == "accounts" else "customerid_contact"
            header_id = user.create(header_set, {
                "name": f"{rng.choice(('Spring', 'Fleet', 'Renewal', 'Pilot'))} {rng.choice(('order', 'deal', 'refresh'))}",
                f"{navigation}@odata.bind": f"/{kind}({customer})", "transactioncurrencyid@odata.bind": f"/transactioncurrencies({usd})",
                "pricelevelid@odata.bind": f"/pricelevels({price_list})", "shipto_country": rng.choice(("United States", None))})
            for _ in range(rng.randint(1, 3)):
                product, unit = rng.choice(products)
                user.create(line_set, {f"{parent}@odata.bind": f"/{header_set}({header_id})",
                                       "productid@odata.bind": f"/products({product})", "uomid@odata.bind": f"/uoms({unit})",
                                       "quantity": rng.randint(1, 10)})
            created.append(header_id)
    return created
