"""What F&O users and batch jobs do to sales documents: create, confirm, calculate totals, deliver, invoice.

Each action is one store transaction and goes through the same rules as an OData write
(`emulate.fno.rules`). Invoicing produces the rows of the externally maintained customer
invoice entities, which (like the real entities) only show invoices of customers that are
maintained externally.
"""

import datetime as dt
from decimal import Decimal

from emulate.catalog import CUSTOMERS_V2, INVOICE_HEADERS, INVOICE_LINES, ORDER_HEADERS, ORDER_LINES
from emulate.fno import rule_rows as rows
from emulate.fno import rules
from emulate.schema import EntitySet
from emulate.store import Cursor, Store

TAX_RATES = {"usmf": Decimal("0.0825"), "demf": Decimal("0.19")}  # each company's sales tax on line amounts
_OPEN = ("Active", "Confirmed", "Picked", "PartiallyDelivered", "Delivered", "PartiallyInvoiced", "DeliveredPartiallyInvoiced")


def insert(cur: Cursor, entity: EntitySet, values: dict) -> dict:
    """Create a row as a user in the F&O client would: blanks, rules, new RecId; returns its key."""
    row = {c.name: rows.blank(entity, c) for c in entity.served}
    row.update(values)
    rules.before_create(cur, entity, row)
    rows.insert_stored(cur, entity, row)
    key = {name: row[name] for name in entity.key}
    rules.after_write(cur, entity, key)
    return key


def change(cur: Cursor, entity: EntitySet, key: dict, values: dict) -> None:
    """Edit a row as a user would (rules, new RecVersion)."""
    values = dict(values)
    rules.before_update(cur, entity, key, values)
    rows.update(cur, entity, rows.where(entity, **key), values)
    rules.after_write(cur, entity, key)


def create_order(store: Store, company: str, header: dict, lines: list[dict]) -> str:
    """A sales order entered in F&O (numbered SO-######); returns its number."""
    with store.writing() as cur:
        key = insert(cur, ORDER_HEADERS, {"dataAreaId": company, **header})
        for sequence, line in enumerate(lines, start=1):
            insert(cur, ORDER_LINES, {"LineCreationSequenceNumber": sequence, **line, **key})
        return key["SalesOrderNumber"]


def _order(cur: Cursor, company: str, number: str) -> dict:
    order = rows.fetch(cur, ORDER_HEADERS, dataAreaId=company, SalesOrderNumber=number)
    if order is None:
        raise rows.write_failed(ORDER_HEADERS, f"Sales order {number} does not exist.")
    return order


def confirm_order(store: Store, company: str, number: str) -> None:
    """Sales order confirmation: processing status Confirmed and confirmed dates on header and lines."""
    with store.writing() as cur:
        order = _order(cur, company, number)
        if order["SalesOrderProcessingStatus"] != "Active":
            raise rows.write_failed(ORDER_HEADERS, f"Sales order {number} is already confirmed.")
        key = {"dataAreaId": company, "SalesOrderNumber": number}
        confirmed = order["RequestedShippingDate"] if order["RequestedShippingDate"] != rows.EMPTY_DATE \
            else rules.now().replace(hour=12, minute=0, second=0) + dt.timedelta(days=7)
        rows.update(cur, ORDER_LINES, rows.where(ORDER_LINES, **key), {"ConfirmedShippingDate": confirmed})
        change(cur, ORDER_HEADERS, key, {"SalesOrderProcessingStatus": "Confirmed", "ConfirmedShippingDate": confirmed,
                                         "AreTotalsUpdated": order["AreTotalsUpdated"]})


def calculate_sales_totals(store: Store) -> int:
    """The "Calculate sales totals" batch: tax and totals of every changed order; AreTotalsUpdated = Yes. Returns the count."""
    with store.writing() as cur:
        pending = rows.select(cur, ORDER_HEADERS, rows.where(ORDER_HEADERS, AreTotalsUpdated="No"),
                              "dataAreaId", "SalesOrderNumber", "OrderHeaderTaxAmount", "OrderTotalChargesAmount")
        for order in pending:
            key = {"dataAreaId": order["dataAreaId"], "SalesOrderNumber": order["SalesOrderNumber"]}
            rate = TAX_RATES.get(order["dataAreaId"], Decimal(0))
            net = tax = discount = Decimal(0)
            for line in rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, **key), "LineCreationSequenceNumber", "LineAmount",
                                    "OrderedSalesQuantity", "LineDiscountAmount", "FixedPriceCharges"):
                line_tax = rows.money(line["LineAmount"] * rate)
                line_discount = rows.money(line["OrderedSalesQuantity"] * line["LineDiscountAmount"] - line["FixedPriceCharges"])
                rows.update(cur, ORDER_LINES, rows.where(ORDER_LINES, LineCreationSequenceNumber=line["LineCreationSequenceNumber"], **key),
                            {"TotalTaxAmount": line_tax, "TotalDiscountAmount": line_discount})
                net, tax, discount = net + line["LineAmount"], tax + line_tax, discount + line_discount
            header_tax = order["OrderHeaderTaxAmount"]
            rows.update(cur, ORDER_HEADERS, rows.where(ORDER_HEADERS, **key), {
                "OrderTotalTaxAmount": tax + header_tax, "TotalDiscountAmount": discount, "OrderTotalDiscountAmount": discount,
                "OrderTotalAmount": net + tax + header_tax + order["OrderTotalChargesAmount"], "AreTotalsUpdated": "Yes"})
            rules.copy_header_to_lines(cur, key)
        return len(pending)


def deliver_order(store: Store, company: str, number: str) -> None:
    """Post the packing slip for every open line: lines and order Delivered."""
    with store.writing() as cur:
        order = _order(cur, company, number)
        if order["SalesOrderProcessingStatus"] not in ("Confirmed", "Picked", "PartiallyDelivered"):
            raise rows.write_failed(ORDER_HEADERS, f"Sales order {number} cannot be delivered in status "
                                                   f"{order['SalesOrderProcessingStatus']}.")
        key = {"dataAreaId": company, "SalesOrderNumber": number}
        rows.update(cur, ORDER_LINES, rows.where(ORDER_LINES, SalesOrderLineStatus="Backorder", **key), {"SalesOrderLineStatus": "Delivered"})
        change(cur, ORDER_HEADERS, key, {"SalesOrderProcessingStatus": "Delivered", "SalesOrderStatus": "Delivered",
                                         "AreTotalsUpdated": order["AreTotalsUpdated"]})


def invoice_order(store: Store, company: str, number: str, line_numbers: list[int] | None = None) -> str:
    """Post an invoice for the order's lines not yet invoiced (or only `line_numbers`); returns the invoice number."""
    with store.writing() as cur:
        order = _order(cur, company, number)
        if order["SalesOrderProcessingStatus"] not in _OPEN[1:]:
            raise rows.write_failed(ORDER_HEADERS, f"Sales order {number} cannot be invoiced in status "
                                                   f"{order['SalesOrderProcessingStatus']}.")
        key = {"dataAreaId": company, "SalesOrderNumber": number}
        lines = [line for line in rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, **key), order_by=("LineCreationSequenceNumber",))
                 if line["SalesOrderLineStatus"] != "Invoiced"
                 and (line_numbers is None or line["LineCreationSequenceNumber"] in line_numbers)]
        if not lines:
            raise rows.write_failed(ORDER_HEADERS, f"Sales order {number} has nothing left to invoice.")
        invoice = _post_invoice(cur, order, lines)
        for line in lines:
            rows.update(cur, ORDER_LINES, rows.where(ORDER_LINES, LineCreationSequenceNumber=line["LineCreationSequenceNumber"], **key),
                        {"SalesOrderLineStatus": "Invoiced"})
        statuses = {line["SalesOrderLineStatus"] for line in rows.select(cur, ORDER_LINES, rows.where(ORDER_LINES, **key), "SalesOrderLineStatus")}
        if statuses == {"Invoiced"}:
            status, sales_status = "Invoiced", "Invoiced"
        elif statuses <= {"Invoiced", "Delivered"}:
            status, sales_status = "DeliveredPartiallyInvoiced", order["SalesOrderStatus"]
        else:
            status, sales_status = "PartiallyInvoiced", order["SalesOrderStatus"]
        change(cur, ORDER_HEADERS, key, {"SalesOrderProcessingStatus": status, "SalesOrderStatus": sales_status,
                                         "AreTotalsUpdated": order["AreTotalsUpdated"]})
        return invoice


def _post_invoice(cur: Cursor, order: dict, lines: list[dict]) -> str:
    company = order["dataAreaId"]
    number = rules.document_number(cur, rules.INVOICE_SEQUENCE, "CIV")
    voucher = rules.document_number(cur, rules.VOUCHER_SEQUENCE, "ARI")
    customer = rows.fetch(cur, CUSTOMERS_V2, "IsExternallyMaintained", dataAreaId=company,
                          CustomerAccount=order["InvoiceCustomerAccountNumber"])
    if customer is None or customer["IsExternallyMaintained"] != "Yes":
        return number  # posted, but outside the externally maintained invoice entities
    date = rules.now().replace(hour=12, minute=0, second=0)
    first = not rows.select(cur, INVOICE_HEADERS, rows.where(INVOICE_HEADERS, dataAreaId=company, SalesOrderNumber=order["SalesOrderNumber"]),
                            "InvoiceNumber")
    rate = TAX_RATES.get(company, Decimal(0))
    net = tax = discount = Decimal(0)
    for line in lines:
        line_tax = rows.money(line["LineAmount"] * rate)
        line_discount = rows.money(line["OrderedSalesQuantity"] * line["LineDiscountAmount"] - line["FixedPriceCharges"])
        rows.insert_stored(cur, INVOICE_LINES, {
            "dataAreaId": company, "InvoiceNumber": number, "InvoiceDate": date, "LedgerVoucher": voucher,
            "LineCreationSequenceNumber": line["LineCreationSequenceNumber"], "ProductNumber": line["ProductNumber"],
            "ProductName": line["ProductName"], "ProductDescription": line["ProductName"], "SalesUnitSymbol": line["SalesUnitSymbol"],
            "CurrencyCode": order["CurrencyCode"], "InvoicedQuantity": line["OrderedSalesQuantity"], "SalesPrice": line["SalesPrice"],
            "LineAmount": line["LineAmount"], "LineTotalDiscountAmount": line_discount, "LineTotalTaxAmount": line_tax,
            "LineTotalChargeAmount": line["FixedPriceCharges"], "ConfirmedShippingDate": line["ConfirmedShippingDate"]})
        net, tax, discount = net + line["LineAmount"], tax + line_tax, discount + line_discount
    header_tax = order["OrderHeaderTaxAmount"] if first else Decimal(0)
    charges = order["OrderTotalChargesAmount"] if first else Decimal(0)
    rows.insert_stored(cur, INVOICE_HEADERS, {
        "dataAreaId": company, "InvoiceNumber": number, "InvoiceDate": date, "LedgerVoucher": voucher,
        "SalesOrderNumber": order["SalesOrderNumber"], "InvoiceCustomerAccountNumber": order["InvoiceCustomerAccountNumber"],
        "CurrencyCode": order["CurrencyCode"], "CustomersOrderReference": order["CustomersOrderReference"],
        "InvoiceAddressStreet": order["InvoiceAddressStreet"], "InvoiceAddressStreetNumber": order["InvoiceAddressStreetNumber"],
        "InvoiceAddressCity": order["InvoiceAddressCity"], "InvoiceAddressState": order["InvoiceAddressStateId"],
        "InvoiceAddressZipCode": order["InvoiceAddressZipCode"],
        "InvoiceAddressCountryRegionISOCode": order["InvoiceAddressCountryRegionISOCode"],
        "SalesOrderOriginType": order["SalesOrderOriginType"], "TotalTaxAmount": tax + header_tax, "TotalDiscountAmount": discount,
        "TotalChargeAmount": charges, "InvoiceHeaderTaxAmount": header_tax,
        "TotalInvoiceAmount": net + tax + header_tax + charges})
    return number
