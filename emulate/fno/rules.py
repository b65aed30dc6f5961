"""P2C business rules of F&O (number sequences, customer flags, line prices), as write hooks.

Every write path of the F&O emulator (single requests and $batch) and every user action of
`sales_process` calls these hooks inside the write's transaction. A hook may fill values,
change related rows through ``cur``, or raise a ``ServiceError`` (usually the
AxODataWriteException ``BadRequest``) to refuse it.
"""

import datetime as dt
from decimal import Decimal

from emulate.catalog import CUSTOMERS_V2, ORDER_HEADERS, ORDER_LINES, QUOTATION_HEADERS, QUOTATION_LINES, SELLABLE_PRODUCTS
from emulate.fno import rule_rows as rows
from emulate.schema import EntitySet
from emulate.store import Cursor, Store

PARTY_SEQUENCE = "fno_partynumber"
# Documents from Sales keep their Sales numbers; F&O numbers its own with other prefixes (decisions.md 3).
NUMBER_SEQUENCES = {
    "CDSSalesQuotationHeaders": ("SalesQuotationNumber", "SQ", "fno_quotationnumber"),
    "CDSSalesOrderHeaders": ("SalesOrderNumber", "SO", "fno_salesordernumber"),
}
INVOICE_SEQUENCE, VOUCHER_SEQUENCE = "fno_invoicenumber", "fno_vouchernumber"
_HEADER_ON_LINES = {  # order header field -> the same fact on its lines
    "OrderingCustomerIsExternallyMaintained": "OrderingCustomerIsExternallyMaintained",
    "InvoiceCustomerIsExternallyMaintained": "InvoiceCustomerIsExternallyMaintained",
    "SalesOrderProcessingStatus": "SalesOrderProcessingStatus",
    "AreTotalsUpdated": "AreSalesOrderTotalsUpdated",
    "SalesOrderOriginType": "SalesOrderOriginType",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def document_number(cur: Cursor, sequence: str, prefix: str) -> str:
    return f"{prefix}-{Store.next_value(cur, sequence):06d}"


def assign_document_number(cur: Cursor, entity: EntitySet, values: dict) -> None:
    """A quotation or order created without its number gets the next one of its number sequence.

    Writes call this before checking mandatory fields: the number is the entity key, filled by F&O when left empty.
    """
    if entity.name in NUMBER_SEQUENCES:
        field, prefix, sequence = NUMBER_SEQUENCES[entity.name]
        if not values.get(field):
            values[field] = document_number(cur, sequence, prefix)


def before_create(cur: Cursor, entity: EntitySet, values: dict) -> None:
    """Fill what F&O fills on insert: party and document numbers, dates, customer facts, line prices."""
    for column in entity.columns:
        if column.type == "datetime" and values.get(column.name) in (0, None, ""):
            values[column.name] = rows.EMPTY_DATE
    if "PartyNumber" in values and not values["PartyNumber"]:
        values["PartyNumber"] = f"{Store.next_value(cur, PARTY_SEQUENCE):09d}"
    assign_document_number(cur, entity, values)
    if entity is ORDER_HEADERS:
        _fill_order_header(cur, values)
        values["OrderCreationDateTime"] = now()
        values["AreTotalsUpdated"] = "No"
        if values.get("SalesOrderStatus") in (None, "None"):
            values["SalesOrderStatus"] = "Backorder"  # an open order
    elif entity is QUOTATION_HEADERS:
        _customer(cur, entity, values["dataAreaId"], values.get("RequestingCustomerAccountNumber"))
        values["QuotationCreationDateTime"] = now()
    elif entity in (ORDER_LINES, QUOTATION_LINES):
        _fill_line(cur, entity, values, None)


def before_update(cur: Cursor, entity: EntitySet, key: dict, values: dict) -> None:
    """Keep derived fields right when a document or line changes."""
    if entity is ORDER_HEADERS:
        current = rows.fetch(cur, entity, **key)
        merged = {**current, **values}
        _fill_order_header(cur, merged)
        values.update({n: merged[n] for n in ("OrderingCustomerIsExternallyMaintained", "InvoiceCustomerIsExternallyMaintained",
                                              "InvoiceCustomerAccountNumber", "CurrencyCode")})
        if "AreTotalsUpdated" not in values:
            values["AreTotalsUpdated"] = "No"
    elif entity in (ORDER_LINES, QUOTATION_LINES):
        _fill_line(cur, entity, values, rows.fetch(cur, entity, **key))


def after_write(cur: Cursor, entity: EntitySet, key: dict) -> None:
    """Maintain related rows after a create or update."""
    if entity is CUSTOMERS_V2:
        customer = rows.fetch(cur, entity, "IsExternallyMaintained", **key)
        for field, account in (("OrderingCustomerIsExternallyMaintained", "OrderingCustomerAccountNumber"),
                               ("InvoiceCustomerIsExternallyMaintained", "InvoiceCustomerAccountNumber")):
            for order in rows.select(cur, ORDER_HEADERS, rows.where(ORDER_HEADERS, dataAreaId=key["dataAreaId"],
                                                                    **{account: key["CustomerAccount"]}), "SalesOrderNumber", field):
                if order[field] != customer["IsExternallyMaintained"]:
                    order_key = {"dataAreaId": key["dataAreaId"], "SalesOrderNumber": order["SalesOrderNumber"]}
                    rows.update(cur, ORDER_HEADERS, rows.where(ORDER_HEADERS, **order_key), {field: customer["IsExternallyMaintained"]})
                    copy_header_to_lines(cur, order_key)
    elif entity is ORDER_HEADERS:
        copy_header_to_lines(cur, key)
    elif entity is ORDER_LINES:
        order_key = {"dataAreaId": key["dataAreaId"], "SalesOrderNumber": key["SalesOrderNumber"]}
        rows.update(cur, ORDER_HEADERS, rows.where(ORDER_HEADERS, **order_key), {"AreTotalsUpdated": "No"})
        copy_header_to_lines(cur, order_key)


def copy_header_to_lines(cur: Cursor, order_key: dict) -> None:
    """The order lines entity shows header facts (customer flags, status, totals flag) on every line."""
    header = rows.fetch(cur, ORDER_HEADERS, *_HEADER_ON_LINES, **order_key)
    values = {line_field: header[field] for field, line_field in _HEADER_ON_LINES.items()}
    values["AreTotalsCalculated"] = header["AreTotalsUpdated"]
    stale = rows.where(ORDER_LINES, **order_key)
    if any(line[n] != v for line in rows.select(cur, ORDER_LINES, stale, *values) for n, v in values.items()):
        rows.update(cur, ORDER_LINES, stale, values)


def _customer(cur: Cursor, entity: EntitySet, company: str, account: str | None) -> dict:
    customer = rows.fetch(cur, CUSTOMERS_V2, "IsExternallyMaintained", "SalesCurrencyCode", "LanguageId",
                          dataAreaId=company, CustomerAccount=account or "")
    if customer is None:
        raise rows.write_failed(entity, f"The value '{account or ''}' in field 'Customer account' is not found in the relating "
                                        "table 'Customers'.")
    return customer


def _fill_order_header(cur: Cursor, values: dict) -> None:
    """Invoice account, currency and the customers' externally-maintained flags (from CustomersV2)."""
    company = values["dataAreaId"]
    ordering = _customer(cur, ORDER_HEADERS, company, values.get("OrderingCustomerAccountNumber"))
    values["InvoiceCustomerAccountNumber"] = values.get("InvoiceCustomerAccountNumber") or values["OrderingCustomerAccountNumber"]
    invoice = _customer(cur, ORDER_HEADERS, company, values["InvoiceCustomerAccountNumber"])
    values["CurrencyCode"] = values.get("CurrencyCode") or ordering["SalesCurrencyCode"]
    values["LanguageId"] = values.get("LanguageId") or ordering["LanguageId"]
    values["OrderingCustomerIsExternallyMaintained"] = ordering["IsExternallyMaintained"]
    values["InvoiceCustomerIsExternallyMaintained"] = invoice["IsExternallyMaintained"]


def _fill_line(cur: Cursor, entity: EntitySet, values: dict, current: dict | None) -> None:
    """Product name, unit and price from the released product (F&O prices documents itself); the line amount."""
    merged = {**(current or {}), **values}
    header_entity, number = (ORDER_HEADERS, "SalesOrderNumber") if entity is ORDER_LINES else (QUOTATION_HEADERS, "SalesQuotationNumber")
    if current is None and rows.fetch(cur, header_entity, number, dataAreaId=merged["dataAreaId"], **{number: merged[number]}) is None:
        raise rows.write_failed(entity, f"The value '{merged[number]}' in field '{header_entity.column(number).label}' is not found "
                                        f"in the relating table '{header_entity.table_label}'.")
    product = rows.fetch(cur, SELLABLE_PRODUCTS, "ProductName", "SalesUnitSymbol", "SalesPrice",
                         dataAreaId=merged["dataAreaId"], ProductNumber=merged.get("ProductNumber") or "")
    if product is None:
        raise rows.write_failed(entity, f"Item number {merged.get('ProductNumber') or ''} does not exist.")
    if current is None:
        values["ProductName"] = values.get("ProductName") or product["ProductName"]
        values["SalesUnitSymbol"] = values.get("SalesUnitSymbol") or product["SalesUnitSymbol"]
        values["SalesPrice"] = values.get("SalesPrice") or product["SalesPrice"]
        merged.update(values)
        if entity is ORDER_LINES and values.get("SalesOrderLineStatus") in (None, "None"):
            values["SalesOrderLineStatus"] = "Backorder"
    quantity = merged.get("OrderedSalesQuantity" if entity is ORDER_LINES else "RequestedSalesQuantity") or 0
    values["LineAmount"] = line_amount(quantity, merged.get("SalesPrice"), merged.get("LineDiscountAmount"),
                                       merged.get("LineDiscountPercentage"), merged.get("FixedPriceCharges"))


def line_amount(quantity: object, price: object, discount: object, percentage: object, charges: object) -> Decimal:
    """quantity x (price - per-unit discount), less the percentage, plus the line's charges (p2c-mappings.md 6.1)."""
    net = Decimal(str(quantity or 0)) * (Decimal(str(price or 0)) - Decimal(str(discount or 0)))
    net *= 1 - Decimal(str(percentage or 0)) / 100
    return rows.money(net + Decimal(str(charges or 0)))
