"""P2C rules on parties and products: contact flags, active customers, price-list entries (p2c-mappings.md 1.2, 3, 4)."""

import datetime as dt

from sqlglot import exp

from emulate.catalog import ACCOUNTS, CONTACTS, PRICE_LEVELS, PRODUCT_PRICE_LEVELS, PRODUCTS
from emulate.dataverse import rule_rows as rows
from emulate.errors import BadRequest
from emulate.store import Cursor, sql

PLUGIN_ERROR = "0x80040265"  # what the platform answers when a plug-in refuses an operation


def fill_contact(cur: Cursor, values: dict, current: dict | None) -> None:
    """fullname from the name parts; msdynce_iscompanyanaccount from the parent customer (PreOperationContact…)."""
    if current is None or {"firstname", "lastname"} & set(values):
        merged = {**(current or {}), **values}
        values["fullname"] = " ".join(p for p in (merged.get("firstname"), merged.get("lastname")) if p) or None
    if "_parentcustomerid_value" in values:
        parent = values["_parentcustomerid_value"]
        values["msdynce_iscompanyanaccount"] = parent is not None and rows.exists(cur, ACCOUNTS, rows.by_id(ACCOUNTS, parent))


def mark_active_customer(cur: Cursor, customer_id: str | None, now: dt.datetime) -> None:
    """A contact named as the customer of a quote, order or invoice becomes an active customer [DOC]."""
    if customer_id is None:
        return
    inactive = exp.and_(rows.by_id(CONTACTS, customer_id),
                        exp.not_(exp.func("coalesce", rows.col("msdynce_isactivecustomer"), exp.false())))
    if rows.exists(cur, CONTACTS, inactive):
        rows.update(cur, CONTACTS, inactive, {"msdynce_isactivecustomer": True}, now)


def list_product_price(cur: Cursor, product_id: str, now: dt.datetime) -> None:
    """An F&O product goes into the first active price list of its currency, by name, at its price [DOC D-PRD].

    Without such a price list the write fails, as the products sync does.
    """
    product = rows.fetch(cur, PRODUCTS, product_id, "msdynce_ismaintainedexternally", "price", "_transactioncurrencyid_value",
                         "_defaultuomid_value", "_defaultuomscheduleid_value")
    if not product["msdynce_ismaintainedexternally"] or product["price"] is None or product["_transactioncurrencyid_value"] is None:
        return
    currency = product["_transactioncurrencyid_value"]
    query = exp.select(rows.col("pricelevelid")).from_(rows.table(PRICE_LEVELS)).where(
        exp.and_(rows.eq(PRICE_LEVELS, "_transactioncurrencyid_value", currency), rows.eq(PRICE_LEVELS, "statecode", 0))
    ).order_by(exp.Lower(this=rows.col("name")), rows.col("name")).limit(1)
    found = cur.execute(sql(query)).fetchone()
    if found is None:
        raise BadRequest("No active price list exists in the product's currency; the product cannot be added to a price list.",
                         code=PLUGIN_ERROR)
    price_level = str(found[0])
    entry = exp.and_(rows.eq(PRODUCT_PRICE_LEVELS, "_pricelevelid_value", price_level),
                     rows.eq(PRODUCT_PRICE_LEVELS, "_productid_value", product_id))
    values = {"amount": product["price"], "_uomid_value": product["_defaultuomid_value"],
              "_uomscheduleid_value": product["_defaultuomscheduleid_value"], "_transactioncurrencyid_value": currency}
    current = rows.select(cur, PRODUCT_PRICE_LEVELS, entry, "amount", "_uomid_value")
    if not current:
        rows.insert(cur, PRODUCT_PRICE_LEVELS, {"_pricelevelid_value": price_level, "_productid_value": product_id, **values}, now)
    elif (current[0]["amount"], current[0]["_uomid_value"]) != (values["amount"], values["_uomid_value"]):
        rows.update(cur, PRODUCT_PRICE_LEVELS, entry, values, now)
