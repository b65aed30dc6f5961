"""P2C rules on quotes, orders and invoices (p2c-mappings.md 1.2, 5, 6, 7; decisions.md 10).

Flags that follow the lines' products, the lock on quotes and activated orders, order
activation, the single "Freight Tax" line kept from `msdynce_misctax`, and the order's
invoiced status once its invoices arrive.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from emulate.catalog import (
    INVOICE_DETAILS, INVOICES, PRODUCTS, QUOTE_DETAILS, QUOTES, SALES_ORDER_DETAILS, SALES_ORDERS,
)
from emulate.dataverse import rule_rows as rows
from emulate.dataverse.p2c_parties import PLUGIN_ERROR
from emulate.errors import BadRequest
from emulate.schema import EntitySet
from emulate.store import Cursor, sql

DRAFT, ACTIVE, INVOICED, PARTIALLY_INVOICED = 647390011, 647390000, 647390003, 647390009
FREIGHT_TAX = "Freight Tax"
# Not verified against a live tenant: the platform refuses writes to a quote that is not a draft
# ("Cannot Update a Read-Only Entity"); the code it answers with is our assumption.
READ_ONLY_CODE = "0x80040203"
# Once an order is activated (processing status past Draft) F&O owns it and only the integration's F&O -> Sales updates
# apply (decisions.md 6; p2c-mappings.md 6 step 2: "form becomes read-only"). The emulator cannot tell the integration's
# application user from a Sales user by the request: both call the Web API with the same kind of token, and the P2C
# plug-ins read no header (MSCRM.BypassCustomPluginExecution would also skip the plug-ins the integration relies on, such
# as the Freight Tax line). So it tells them apart by what they write:
# * header: the integration changes only the fields of the F&O -> Sales header map (p2c-mappings.md 6b: status,
#   fulfilment, addresses, dates, amounts) and may resend the others unchanged; any other change is a user's edit.
#   The processing status never returns to Draft, and the state moves only to Active (the template default) or Invoiced.
# * lines: the integration's line map sets msdynce_ismaintainedexternally = true on every line it writes
#   (p2c-mappings.md 6b); a line created or changed without it is a user's edit. No one deletes a line or the order.
ORDER_FIELDS_OF_THE_INTEGRATION = frozenset((
    "msdynce_processingstatus", "statecode", "statuscode", "datefulfilled", "requestdeliveryby", "msdynce_misctax",
    *(f"{side}_{part}" for side in ("shipto", "billto") for part in ("line1", "line2", "city", "stateorprovince", "postalcode", "country")),
    "totallineitemamount", "totaldiscountamount", "discountamount", "discountpercentage", "freightamount", "totalamountlessfreight",
    "totaltax", "totalamount",
))
ORDER_STATES_OF_THE_INTEGRATION = (0, 4)  # Active, Invoiced
LINE_MARK_OF_THE_INTEGRATION = "msdynce_ismaintainedexternally"


@dataclass(frozen=True)
class Lines:
    """A document's lines: their entity, the lookup to the header, the header's copy of the products flag."""

    header: EntitySet
    entity: EntitySet
    parent: str
    flag_copy: str


QUOTE_LINES = Lines(QUOTES, QUOTE_DETAILS, "_quoteid_value", "msdynce_quotehasexternalmaintainedproductsonly")
ORDER_LINES = Lines(SALES_ORDERS, SALES_ORDER_DETAILS, "_salesorderid_value", "msdynce_orderhasexternalmaintainedproductsonly")
INVOICE_LINES = Lines(INVOICES, INVOICE_DETAILS, "_invoiceid_value", "")
LINES_OF = {lines.entity.name: lines for lines in (QUOTE_LINES, ORDER_LINES, INVOICE_LINES)}
LINES_OF_HEADER = {lines.header.name: lines for lines in (QUOTE_LINES, ORDER_LINES, INVOICE_LINES)}


# -- locks and activation -----------------------------------------------------------------
def refuse_read_only_quote(cur: Cursor, quote_id: str | None, values: dict | None = None) -> None:
    """Only draft quotes can be edited; a state change alone (activate, revise back to draft) is allowed."""
    if quote_id is None or (values is not None and set(values) <= {"statecode", "statuscode"}):
        return
    quote = rows.fetch(cur, QUOTES, quote_id, "statecode")
    if quote is not None and quote["statecode"] != 0:
        raise BadRequest("Cannot Update a Read-Only Entity", code=READ_ONLY_CODE)


def check_order_update(cur: Cursor, order_id: str, values: dict) -> None:
    """Activation needs externally maintained products only; an activated order takes only the integration's updates."""
    order = rows.fetch(cur, SALES_ORDERS, order_id, *(c.name for c in SALES_ORDERS.served if not c.read_only))
    if order["msdynce_processingstatus"] == DRAFT:
        if values.get("msdynce_processingstatus") == ACTIVE:
            ordernumber = values.get("ordernumber", order["ordernumber"])
            if not ordernumber or order["msdynce_ismaintainedexternally"] or not order["msdynce_hasexternallymaintainedproductsonly"]:
                raise BadRequest("The order can be activated only when it has an order ID and all its products are maintained "
                                 "externally (no write-in products).", code=PLUGIN_ERROR)
        return
    changed = [n for n in values if n in order and _differs(values[n], order[n])]
    locked = [n for n in changed if n not in ORDER_FIELDS_OF_THE_INTEGRATION]
    if locked:
        raise BadRequest(f"The order is activated and maintained in Finance and Operations; {', '.join(locked)} "
                         "can no longer be changed in Sales.", code=PLUGIN_ERROR)
    if "msdynce_processingstatus" in changed and values["msdynce_processingstatus"] == DRAFT:
        raise BadRequest("The order is activated and maintained in Finance and Operations; it cannot be set back to Draft.",
                         code=PLUGIN_ERROR)
    if "statecode" in changed and values["statecode"] not in ORDER_STATES_OF_THE_INTEGRATION:
        raise BadRequest("The order is activated and maintained in Finance and Operations; it cannot be submitted, canceled "
                         "or fulfilled in Sales.", code=PLUGIN_ERROR)


def refuse_locked_order_line(cur: Cursor, order_id: str | None, values: dict | None) -> None:
    """A line of an activated order: written only by the integration (`values` marked), never deleted (`values` None)."""
    if order_id is None or not _is_activated(cur, order_id):
        return
    if values is None:
        raise BadRequest("The order is activated and maintained in Finance and Operations; its lines cannot be deleted in Sales.",
                         code=PLUGIN_ERROR)
    if values.get(LINE_MARK_OF_THE_INTEGRATION) is not True:
        raise BadRequest("The order is activated and maintained in Finance and Operations; its lines cannot be added or "
                         "changed in Sales.", code=PLUGIN_ERROR)


def refuse_deleting_activated_order(cur: Cursor, order_id: str) -> None:
    if _is_activated(cur, order_id):
        raise BadRequest("The order is activated and maintained in Finance and Operations; it cannot be deleted in Sales.",
                         code=PLUGIN_ERROR)


def _is_activated(cur: Cursor, order_id: str) -> bool:
    order = rows.fetch(cur, SALES_ORDERS, order_id, "msdynce_processingstatus")
    return order is not None and order["msdynce_processingstatus"] != DRAFT


def delete_lines(cur: Cursor, lines: Lines, header_id: str, now: dt.datetime) -> None:
    """The header's lines go with it (the platform's cascade delete), each logged for change tracking."""
    rows.delete(cur, lines.entity, rows.eq(lines.entity, lines.parent, header_id), now)


def submit_order_lines(cur: Cursor, order_id: str, now: dt.datetime) -> None:
    """An activated Sales order marks every line submitted (the P2C Activate command)."""
    order = rows.fetch(cur, SALES_ORDERS, order_id, "msdynce_processingstatus", "msdynce_ismaintainedexternally")
    if order["msdynce_processingstatus"] == DRAFT or order["msdynce_ismaintainedexternally"]:
        return
    pending = exp.and_(rows.eq(SALES_ORDER_DETAILS, "_salesorderid_value", order_id),
                       exp.not_(exp.func("coalesce", rows.col("msdynce_orderissubmitted"), exp.false())))
    if rows.exists(cur, SALES_ORDER_DETAILS, pending):
        rows.update(cur, SALES_ORDER_DETAILS, pending, {"msdynce_orderissubmitted": True}, now)


def _differs(new: object, old: object) -> bool:
    return (str(new) if new is not None else None) != (str(old) if old is not None else None)


# -- lines ------------------------------------------------------------------------------
def fill_line(cur: Cursor, lines: Lines, values: dict, current: dict | None) -> None:
    """Sequence number, the header's products flag and, on order/invoice lines, the header's number."""
    parent = values.get(lines.parent, (current or {}).get(lines.parent))
    if parent is None:
        return
    if current is None and values.get("sequencenumber") is None:
        top = cur.execute(sql(exp.select(exp.func("coalesce", exp.func("max", rows.col("sequencenumber")), exp.Literal.number(0)))
                              .from_(rows.table(lines.entity)).where(rows.eq(lines.entity, lines.parent, parent)))).fetchone()[0]
        values["sequencenumber"] = top + 1
    header = rows.fetch(cur, lines.header, parent, *_header_copies(lines))
    if header is None:
        return
    if lines.flag_copy:
        values[lines.flag_copy] = header["msdynce_hasexternallymaintainedproductsonly"]
    if lines is ORDER_LINES and not values.get("msdynce_ordernumber"):
        values["msdynce_ordernumber"] = header["ordernumber"]
    if lines is INVOICE_LINES:
        values.setdefault("msdynce_invoicenumber", header["invoicenumber"])
        values.setdefault("msdynce_invoicedate", header["msdynce_invoicedate"])


def _header_copies(lines: Lines) -> tuple[str, ...]:
    return {"quotes": ("msdynce_hasexternallymaintainedproductsonly",),
            "salesorders": ("msdynce_hasexternallymaintainedproductsonly", "ordernumber"),
            "invoices": ("msdynce_hasexternallymaintainedproductsonly", "invoicenumber", "msdynce_invoicedate")}[lines.header.name]


def refuse_second_freight_tax(cur: Cursor, order_id: str | None, line_id: str | None, values: dict) -> None:
    """The P2C plug-in allows one Freight Tax line per order."""
    if order_id is None or not values.get("msdynce_ismisctax"):
        return
    other = exp.and_(rows.eq(SALES_ORDER_DETAILS, "_salesorderid_value", order_id), rows.col("msdynce_ismisctax"))
    if line_id is not None:
        other = exp.and_(other, exp.NEQ(this=rows.col("salesorderdetailid"), expression=rows.by_id(SALES_ORDER_DETAILS, line_id).expression))
    if rows.exists(cur, SALES_ORDER_DETAILS, other):
        raise BadRequest("Sales order can not contain more than one Freight tax", code=PLUGIN_ERROR)


def maintain_products_flag(cur: Cursor, lines: Lines, header_id: str | None, now: dt.datetime, leaving: str | None = None) -> None:
    """`msdynce_hasexternallymaintainedproductsonly`: no write-in lines and only F&O products (the Freight Tax line aside).

    `leaving` is a line about to be deleted, left out of the count.
    """
    if header_id is None or not rows.exists(cur, lines.header, rows.by_id(lines.header, header_id)):
        return
    def line(name: str) -> exp.Column:
        return exp.column(name, table="l", quoted=True)

    def unset(column: exp.Column) -> exp.Expression:
        return exp.not_(exp.func("coalesce", column, exp.false()))

    scope = [exp.EQ(this=line(lines.parent), expression=rows.by_id(lines.header, header_id).expression)]
    if lines is not QUOTE_LINES:
        scope.append(unset(line("msdynce_ismisctax")))
    if leaving is not None:
        scope.append(exp.NEQ(this=line(lines.entity.key[0]), expression=rows.by_id(lines.entity, leaving).expression))
    external = exp.and_(unset(line("isproductoverridden")),
                        exp.func("coalesce", exp.column("msdynce_ismaintainedexternally", table="p", quoted=True), exp.false()))
    query = (exp.select(exp.func("bool_and", external)).from_(exp.alias_(rows.table(lines.entity), "l"))
             .join(exp.alias_(rows.table(PRODUCTS), "p"), join_type="left",
                   on=exp.EQ(this=line("_productid_value"), expression=exp.column("productid", table="p", quoted=True)))
             .where(exp.and_(*scope)))
    only_external = cur.execute(sql(query)).fetchone()[0]
    flag = True if only_external is None else bool(only_external)
    header = rows.fetch(cur, lines.header, header_id, "msdynce_hasexternallymaintainedproductsonly")
    if header["msdynce_hasexternallymaintainedproductsonly"] != flag:
        rows.update(cur, lines.header, rows.by_id(lines.header, header_id), {"msdynce_hasexternallymaintainedproductsonly": flag}, now)
    if lines.flag_copy:
        stale = exp.and_(rows.eq(lines.entity, lines.parent, header_id),
                         exp.NullSafeNEQ(this=rows.col(lines.flag_copy), expression=exp.Boolean(this=flag)))
        if rows.exists(cur, lines.entity, stale):
            rows.update(cur, lines.entity, stale, {lines.flag_copy: flag}, now)


# -- freight tax ------------------------------------------------------------------------
def maintain_freight_tax(cur: Cursor, lines: Lines, header_id: str, now: dt.datetime) -> None:
    """Keep exactly one "Freight Tax" write-in line worth `msdynce_misctax` (none when it is empty)."""
    header = rows.fetch(cur, lines.header, header_id, "msdynce_misctax", "_transactioncurrencyid_value")
    tax = header["msdynce_misctax"]
    mine = exp.and_(rows.eq(lines.entity, lines.parent, header_id), rows.col("msdynce_ismisctax"))
    current = rows.select(cur, lines.entity, mine, lines.entity.key[0], "priceperunit")
    if not tax:
        if current:
            rows.delete(cur, lines.entity, mine, now)
        return
    amounts = {"priceperunit": tax, "baseamount": tax, "extendedamount": tax}
    if not current:
        top = cur.execute(sql(exp.select(exp.func("coalesce", exp.func("max", rows.col("sequencenumber")), exp.Literal.number(0)))
                              .from_(rows.table(lines.entity)).where(rows.eq(lines.entity, lines.parent, header_id)))).fetchone()[0]
        rows.insert(cur, lines.entity, {lines.parent: header_id, "productdescription": FREIGHT_TAX, "isproductoverridden": True,
                                        "ispriceoverridden": True, "quantity": Decimal(1), "msdynce_ismisctax": True,
                                        "sequencenumber": top + 1, "manualdiscountamount": Decimal(0), "tax": Decimal(0),
                                        "_transactioncurrencyid_value": header["_transactioncurrencyid_value"], **amounts}, now)
    elif current[0]["priceperunit"] != tax:
        rows.update(cur, lines.entity, mine, amounts, now)


# -- invoiced orders --------------------------------------------------------------------
def mark_order_invoiced(cur: Cursor, order_id: str | None, now: dt.datetime) -> None:
    """Fully invoiced: processing status Invoiced and state Invoiced; otherwise Partially Invoiced (decisions.md 10)."""
    if order_id is None or not rows.exists(cur, SALES_ORDERS, rows.by_id(SALES_ORDERS, order_id)):
        return
    ordered = _quantity(cur, SALES_ORDER_DETAILS, exp.and_(rows.eq(SALES_ORDER_DETAILS, "_salesorderid_value", order_id)))
    invoice_ids = [r["invoiceid"] for r in rows.select(cur, INVOICES, rows.eq(INVOICES, "_salesorderid_value", order_id), "invoiceid")]
    invoiced = _quantity(cur, INVOICE_DETAILS, exp.In(this=rows.col("_invoiceid_value"),
                                                      expressions=[rows.by_id(INVOICES, i).expression for i in invoice_ids])) \
        if invoice_ids else Decimal(0)
    full = ordered > 0 and invoiced >= ordered
    target = {"msdynce_processingstatus": INVOICED, "statecode": 4, "statuscode": 100003} if full \
        else {"msdynce_processingstatus": PARTIALLY_INVOICED}
    order = rows.fetch(cur, SALES_ORDERS, order_id, *target)
    if any(order[n] != v for n, v in target.items()):
        rows.update(cur, SALES_ORDERS, rows.by_id(SALES_ORDERS, order_id), target, now)


def _quantity(cur: Cursor, entity: EntitySet, where: exp.Expression) -> Decimal:
    product_lines = exp.and_(where, exp.not_(exp.func("coalesce", rows.col("msdynce_ismisctax"), exp.false())))
    query = exp.select(exp.func("coalesce", exp.func("sum", rows.col("quantity")), exp.Literal.number(0))) \
        .from_(rows.table(entity)).where(product_lines)
    return Decimal(cur.execute(sql(query)).fetchone()[0])
