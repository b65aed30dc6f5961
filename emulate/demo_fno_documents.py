"""Demo F&O sales orders, quotations and invoices (part of `demo_data`).

Orders cover every stage: unconfirmed (Active), confirmed, delivered, invoiced and
partially invoiced; 70% belong to externally maintained customers, the rest to F&O's own.
Invoices of externally maintained customers appear in the externally maintained invoice
entities, as they would after posting.
"""

import datetime as dt
import random
from decimal import Decimal

from emulate.demo_reference import BASE_CREATED, STREETS
from emulate.fno.rule_rows import EMPTY_DATE, money
from emulate.fno.rules import line_amount
from emulate.fno.sales_process import TAX_RATES

STATUSES = (("Active", 20), ("Confirmed", 30), ("Delivered", 20), ("Invoiced", 20), ("PartiallyInvoiced", 10))
DAY = dt.timedelta(days=1)


def _noon(moment: dt.datetime) -> dt.datetime:
    return moment.replace(hour=12, minute=0, second=0, microsecond=0)


def fno_order(rng: random.Random, index: int, customers: list[dict], products: list[dict]) -> tuple[dict, list[dict]]:
    """Order SO-<index+1> with 1-4 lines; order 0 line 1 is the quantity-3 / 3.33 per unit (-0.01 charge) case."""
    customer = rng.choice(customers)
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    created = BASE_CREATED + dt.timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
    requested = _noon(created + 14 * DAY)
    confirmed = requested if status != "Active" else EMPTY_DATE
    totals_updated = "Yes" if status != "Active" and rng.random() < 0.9 else "No"
    header = {"dataAreaId": "usmf", "SalesOrderNumber": f"SO-{index + 1:06d}", "OrderingCustomerAccountNumber": customer["account"],
              "InvoiceCustomerAccountNumber": customer["account"], "CurrencyCode": "USD", "LanguageId": "en-us",
              "SalesOrderName": f"Order {index + 1}", "DeliveryAddressStreet": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
              "DeliveryAddressCity": "Seattle", "DeliveryAddressStateId": "WA", "DeliveryAddressZipCode": "98052",
              "DeliveryAddressCountryRegionISOCode": "US", "InvoiceAddressStreet": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
              "InvoiceAddressCity": "Seattle", "InvoiceAddressStateId": "WA", "InvoiceAddressZipCode": "98052",
              "InvoiceAddressCountryRegionISOCode": "US", "SalesOrderProcessingStatus": status,
              "SalesOrderStatus": {"Delivered": "Delivered", "Invoiced": "Invoiced"}.get(status, "Backorder"),
              "OrderingCustomerIsExternallyMaintained": customer["external"], "InvoiceCustomerIsExternallyMaintained": customer["external"],
              "AreTotalsUpdated": totals_updated, "SalesOrderOriginType": "NotSpecified", "RequestedShippingDate": requested,
              "ConfirmedShippingDate": confirmed, "OrderCreationDateTime": created,
              "OrderHeaderTaxAmount": money(rng.choice((0, 0, 0, 12.5))), "OrderTotalChargesAmount": money(rng.choice((0, 0, 25)))}
    count = rng.randint(1, 4)
    invoiced_lines = count if status == "Invoiced" else (count // 2 if status == "PartiallyInvoiced" else 0)
    lines = []
    for sequence in range(1, count + 1):
        product = rng.choice(products)
        quantity, discount, charge = Decimal(rng.randint(1, 12)), Decimal(rng.choice((0, 0, 2))), Decimal(0)
        if index == 0 and sequence == 1:
            quantity, discount, charge = Decimal(3), Decimal("3.33"), Decimal("-0.01")
        amount = line_amount(quantity, product["SalesPrice"], discount, 0, charge)
        line_status = "Invoiced" if sequence <= invoiced_lines else ("Delivered" if status == "Delivered" else "Backorder")
        lines.append({"dataAreaId": "usmf", "SalesOrderNumber": header["SalesOrderNumber"], "LineCreationSequenceNumber": sequence,
                      "ProductNumber": product["ProductNumber"], "ProductName": product["ProductName"],
                      "SalesUnitSymbol": product["SalesUnitSymbol"], "OrderedSalesQuantity": quantity,
                      "SalesPrice": product["SalesPrice"], "LineDiscountAmount": discount, "FixedPriceCharges": charge,
                      "LineAmount": amount, "SalesOrderLineStatus": line_status, "RequestedShippingDate": requested,
                      "ConfirmedShippingDate": confirmed, "ShippingSiteId": "1", "ShippingWarehouseId": "13"})
    _totals(header, lines)
    return header, lines


def _totals(header: dict, lines: list[dict]) -> None:
    """What "Calculate sales totals" stored (only when it has run); lines mirror the header's facts."""
    rate = TAX_RATES["usmf"]
    for line in lines:
        line["TotalTaxAmount"] = money(line["LineAmount"] * rate)
        line["TotalDiscountAmount"] = money(line["OrderedSalesQuantity"] * line["LineDiscountAmount"] - line["FixedPriceCharges"])
        line.update({"OrderingCustomerIsExternallyMaintained": header["OrderingCustomerIsExternallyMaintained"],
                     "InvoiceCustomerIsExternallyMaintained": header["InvoiceCustomerIsExternallyMaintained"],
                     "SalesOrderProcessingStatus": header["SalesOrderProcessingStatus"],
                     "AreSalesOrderTotalsUpdated": header["AreTotalsUpdated"], "AreTotalsCalculated": header["AreTotalsUpdated"],
                     "SalesOrderOriginType": header["SalesOrderOriginType"]})
    if header["AreTotalsUpdated"] == "Yes":
        tax = sum((line["TotalTaxAmount"] for line in lines), Decimal(0)) + header["OrderHeaderTaxAmount"]
        discount = sum((line["TotalDiscountAmount"] for line in lines), Decimal(0))
        header.update({"OrderTotalTaxAmount": tax, "TotalDiscountAmount": discount, "OrderTotalDiscountAmount": discount,
                       "OrderTotalAmount": sum((line["LineAmount"] for line in lines), Decimal(0)) + tax + header["OrderTotalChargesAmount"]})


def fno_invoice(number: int, header: dict, lines: list[dict]) -> tuple[dict, list[dict]]:
    """The invoice CIV-<number> posted for the order's invoiced lines."""
    date = _noon(header["ConfirmedShippingDate"] + 2 * DAY)
    key = {"dataAreaId": "usmf", "InvoiceNumber": f"CIV-{number:06d}", "InvoiceDate": date, "LedgerVoucher": f"ARI-{number:06d}"}
    invoiced = [line for line in lines if line["SalesOrderLineStatus"] == "Invoiced"]
    invoice_lines = [{**key, "LineCreationSequenceNumber": line["LineCreationSequenceNumber"], "ProductNumber": line["ProductNumber"],
                      "ProductName": line["ProductName"], "ProductDescription": line["ProductName"],
                      "SalesUnitSymbol": line["SalesUnitSymbol"], "CurrencyCode": "USD", "InvoicedQuantity": line["OrderedSalesQuantity"],
                      "SalesPrice": line["SalesPrice"], "LineAmount": line["LineAmount"],
                      "LineTotalDiscountAmount": line["TotalDiscountAmount"], "LineTotalTaxAmount": line["TotalTaxAmount"],
                      "LineTotalChargeAmount": line["FixedPriceCharges"], "ConfirmedShippingDate": line["ConfirmedShippingDate"]}
                     for line in invoiced]
    tax = sum((line["LineTotalTaxAmount"] for line in invoice_lines), Decimal(0)) + header["OrderHeaderTaxAmount"]
    net = sum((line["LineAmount"] for line in invoice_lines), Decimal(0))
    invoice = {**key, "SalesOrderNumber": header["SalesOrderNumber"], "InvoiceCustomerAccountNumber": header["InvoiceCustomerAccountNumber"],
               "CurrencyCode": "USD", "InvoiceAddressStreet": header["InvoiceAddressStreet"], "InvoiceAddressCity": header["InvoiceAddressCity"],
               "InvoiceAddressState": header["InvoiceAddressStateId"], "InvoiceAddressZipCode": header["InvoiceAddressZipCode"],
               "InvoiceAddressCountryRegionISOCode": "US", "InvoiceAddressCountryRegionId": "USA", "SalesOrderOriginType": "NotSpecified",
               "TotalTaxAmount": tax, "TotalChargeAmount": header["OrderTotalChargesAmount"],
               "TotalDiscountAmount": sum((line["LineTotalDiscountAmount"] for line in invoice_lines), Decimal(0)),
               "InvoiceHeaderTaxAmount": header["OrderHeaderTaxAmount"],
               "TotalInvoiceAmount": net + tax + header["OrderTotalChargesAmount"]}
    return invoice, invoice_lines


def fno_quotation(rng: random.Random, index: int, customers: list[dict], products: list[dict]) -> tuple[dict, list[dict]]:
    customer = rng.choice(customers)
    created = BASE_CREATED + dt.timedelta(minutes=rng.randrange(0, 700 * 24 * 60))
    header = {"dataAreaId": "usmf", "SalesQuotationNumber": f"SQ-{index + 1:06d}", "RequestingCustomerAccountNumber": customer["account"],
              "InvoiceCustomerAccountNumber": customer["account"], "CurrencyCode": "USD", "SalesQuotationName": f"Quotation {index + 1}",
              "DeliveryAddressCity": "Seattle", "DeliveryAddressCountryRegionISOCode": "US", "LanguageId": "en-us",
              "RequestedShippingDate": _noon(created + 14 * DAY), "SalesQuotationExpiryDate": _noon(created + 45 * DAY),
              "SalesQuotationStatus": rng.choice(("Created", "Sent", "Confirmed", "Lost")), "QuotationCreationDateTime": created}
    lines = []
    for sequence in range(1, rng.randint(1, 3) + 1):
        product = rng.choice(products)
        quantity = Decimal(rng.randint(1, 10))
        lines.append({"dataAreaId": "usmf", "SalesQuotationNumber": header["SalesQuotationNumber"], "LineCreationSequenceNumber": sequence,
                      "ProductNumber": product["ProductNumber"], "ProductName": product["ProductName"],
                      "SalesUnitSymbol": product["SalesUnitSymbol"], "RequestedSalesQuantity": quantity, "SalesPrice": product["SalesPrice"],
                      "LineAmount": line_amount(quantity, product["SalesPrice"], 0, 0, 0), "RequestedShippingDate": header["RequestedShippingDate"]})
    header["QuotationTotalAmount"] = sum((line["LineAmount"] for line in lines), Decimal(0))
    return header, lines
