"""Server-side behaviour of the P2C Sales solution (p2c-mappings.md 1.2), as write hooks.

Every write path of the Dataverse emulator (single requests, bulk actions, $batch) calls
these hooks inside the write's transaction, so the rules hold however a client writes.
A hook may fill values, change related rows through ``cur``, or raise a ``ServiceError``
(for example ``BadRequest`` with the real code) to refuse the write. The rules themselves
live in `numbering`, `p2c_parties` and `p2c_documents`.
"""

import datetime as dt
from dataclasses import dataclass

from emulate.catalog import CONTACTS, SALES_ORDER_DETAILS, SALES_ORDERS
from emulate.dataverse import choices
from emulate.dataverse import p2c_documents as documents
from emulate.dataverse import p2c_parties as parties
from emulate.dataverse import rule_rows as rows
from emulate.dataverse.numbering import assign_number
from emulate.schema import EntitySet
from emulate.store import Cursor

_CUSTOMER_DOCUMENTS = ("quotes", "salesorders", "invoices")


@dataclass(frozen=True)
class RuleContext:
    seed: int  # the tenant's seed: generated numbers are deterministic for it
    now: dt.datetime


def before_create(cur: Cursor, entity: EntitySet, values: dict, ctx: RuleContext) -> None:
    """Fill what the platform and the P2C plug-ins fill before a record is created (PreOperation…Create)."""
    choices.check_state_and_status(entity, values[entity.key[0]], values, None)
    assign_number(cur, entity.name, values, ctx.seed)
    if entity is CONTACTS:
        parties.fill_contact(cur, values, None)
    if entity.name == "invoices" and values.get("_salesorderid_value") and "_ownerid_value" not in values:
        order = rows.fetch(cur, SALES_ORDERS, values["_salesorderid_value"], "_ownerid_value")
        values["_ownerid_value"] = order and order["_ownerid_value"]  # the invoice's owner is the order's (decisions.md 10)
    lines = documents.LINES_OF.get(entity.name)
    if lines is not None:
        if lines is documents.QUOTE_LINES:
            documents.refuse_read_only_quote(cur, values.get(lines.parent))
        documents.fill_line(cur, lines, values, None)
        if entity is SALES_ORDER_DETAILS:
            documents.refuse_locked_order_line(cur, values.get(lines.parent), values)
            documents.refuse_second_freight_tax(cur, values.get(lines.parent), values.get(entity.key[0]), values)


def before_update(cur: Cursor, entity: EntitySet, row_id: str, values: dict, ctx: RuleContext) -> None:
    """Refuse or complete an update before it is stored (PreOperation…Update)."""
    if "statuscode" in values and "statecode" not in values and entity.column("statecode"):
        stored_state = rows.fetch(cur, entity, row_id, "statecode")["statecode"]
    else:
        stored_state = None
    choices.check_state_and_status(entity, row_id, values, stored_state)
    if entity is CONTACTS:
        parties.fill_contact(cur, values, rows.fetch(cur, CONTACTS, row_id, "firstname", "lastname"))
    elif entity.name == "quotes":
        documents.refuse_read_only_quote(cur, row_id, values)
    elif entity is SALES_ORDERS:
        documents.check_order_update(cur, row_id, values)
    lines = documents.LINES_OF.get(entity.name)
    if lines is not None:
        current = rows.fetch(cur, entity, row_id, lines.parent)
        if lines is documents.QUOTE_LINES:
            documents.refuse_read_only_quote(cur, current[lines.parent])
        documents.fill_line(cur, lines, values, current)
        if entity is SALES_ORDER_DETAILS:
            for order in {current[lines.parent], values.get(lines.parent, current[lines.parent])}:
                documents.refuse_locked_order_line(cur, order, values)
            documents.refuse_second_freight_tax(cur, values.get(lines.parent, current[lines.parent]), row_id, values)


def after_write(cur: Cursor, entity: EntitySet, row_id: str, ctx: RuleContext) -> None:
    """Maintain related rows after a create or update (PostOperation… steps)."""
    if entity.name in _CUSTOMER_DOCUMENTS:
        parties.mark_active_customer(cur, rows.fetch(cur, entity, row_id, "_customerid_value")["_customerid_value"], ctx.now)
    if entity.name == "products":
        parties.list_product_price(cur, row_id, ctx.now)
    if entity.name in ("salesorders", "invoices"):
        documents.maintain_freight_tax(cur, documents.LINES_OF_HEADER[entity.name], row_id, ctx.now)
    if entity is SALES_ORDERS:
        documents.submit_order_lines(cur, row_id, ctx.now)
    lines = documents.LINES_OF.get(entity.name)
    if lines is not None and lines is not documents.INVOICE_LINES:
        documents.maintain_products_flag(cur, lines, rows.fetch(cur, entity, row_id, lines.parent)[lines.parent], ctx.now)
    if entity.name == "invoices":
        documents.mark_order_invoiced(cur, rows.fetch(cur, entity, row_id, "_salesorderid_value")["_salesorderid_value"], ctx.now)
    elif entity.name == "invoicedetails":
        invoice = rows.fetch(cur, entity, row_id, "_invoiceid_value")["_invoiceid_value"]
        order = invoice and rows.fetch(cur, documents.INVOICES, invoice, "_salesorderid_value")
        documents.mark_order_invoiced(cur, order and order["_salesorderid_value"], ctx.now)


def before_delete(cur: Cursor, entity: EntitySet, row_id: str, ctx: RuleContext) -> None:
    """Refuse a delete, or tidy related rows, before the row goes: a header takes its lines with it."""
    if entity is SALES_ORDERS:
        documents.refuse_deleting_activated_order(cur, row_id)
    header_lines = documents.LINES_OF_HEADER.get(entity.name)
    if header_lines is not None:
        documents.delete_lines(cur, header_lines, row_id, ctx.now)
        return
    lines = documents.LINES_OF.get(entity.name)
    if lines is None or lines is documents.INVOICE_LINES:
        return
    parent = rows.fetch(cur, entity, row_id, lines.parent)[lines.parent]
    if lines is documents.QUOTE_LINES:
        documents.refuse_read_only_quote(cur, parent)
    if entity is SALES_ORDER_DETAILS:
        documents.refuse_locked_order_line(cur, parent, None)
    documents.maintain_products_flag(cur, lines, parent, ctx.now, leaving=row_id)
