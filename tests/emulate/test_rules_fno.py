"""F&O rules through OData writes and user actions: numbers, customer flags, prices, confirmation, totals, delivery, invoicing."""

import re
from decimal import Decimal

import pytest

from emulate.fno import sales_process


def _get(fno, path) -> dict:
    response = fno.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _lines(fno, number) -> list[dict]:
    return _get(fno, f"CDSSalesOrderLines?$filter=SalesOrderNumber eq '{number}'")["value"]


@pytest.fixture(scope="module")
def product(tenant) -> dict:
    return next(p for p in tenant.fno.rows("SellableReleasedProducts") if p["IsSalesStopped"] == "No")


def test_an_order_from_sales_keeps_its_number_and_gets_prices_and_flags(fno, product):
    created = fno.post("CDSSalesOrderHeaders", json={"SalesOrderNumber": "ORD-01234-ABC123", "OrderingCustomerAccountNumber": "US-001",
                                                     "SalesOrderOriginType": "SalesOrderIntegration"})
    assert created.status_code == 201, created.text
    header = created.json()
    assert header["SalesOrderNumber"] == "ORD-01234-ABC123" and header["SalesOrderProcessingStatus"] == "Active"
    assert header["InvoiceCustomerAccountNumber"] == "US-001" and header["CurrencyCode"] == "USD"
    assert (header["OrderingCustomerIsExternallyMaintained"], header["AreTotalsUpdated"]) == ("No", "No")
    line = fno.post("CDSSalesOrderLines", json={"SalesOrderNumber": "ORD-01234-ABC123", "LineCreationSequenceNumber": 1,
                                                "ProductNumber": product["ProductNumber"], "OrderedSalesQuantity": 3,
                                                "LineDiscountAmount": 3.33, "FixedPriceCharges": -0.01})
    assert line.status_code == 201, line.text
    body = line.json()
    price = Decimal(str(product["SalesPrice"]))
    assert Decimal(str(body["SalesPrice"])) == price and body["SalesUnitSymbol"] == product["SalesUnitSymbol"]
    assert Decimal(str(body["LineAmount"])) == 3 * price - Decimal("10.00")  # 3 x 3.33 per unit + 0.01 charge = 10.00 off
    assert body["SalesOrderOriginType"] == "SalesOrderIntegration" and body["OrderingCustomerIsExternallyMaintained"] == "No"


def test_orders_follow_their_customers_externally_maintained_flag(fno):
    assert fno.patch("CustomersV2(dataAreaId='usmf',CustomerAccount='US-001')", json={"IsExternallyMaintained": "Yes"}).status_code == 204
    header = _get(fno, "CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='ORD-01234-ABC123')")
    assert (header["OrderingCustomerIsExternallyMaintained"], header["InvoiceCustomerIsExternallyMaintained"]) == ("Yes", "Yes")
    assert {line["OrderingCustomerIsExternallyMaintained"] for line in _lines(fno, "ORD-01234-ABC123")} == {"Yes"}


def test_an_order_for_an_unknown_customer_or_product_is_refused(fno):
    refused = fno.post("CDSSalesOrderHeaders", json={"SalesOrderNumber": "ORD-09999-XXXXXX", "OrderingCustomerAccountNumber": "NOPE"})
    assert refused.status_code == 400
    assert "'NOPE' in field 'Customer account' is not found" in refused.json()["error"]["innererror"]["message"]
    line = fno.post("CDSSalesOrderLines", json={"SalesOrderNumber": "ORD-01234-ABC123", "LineCreationSequenceNumber": 9,
                                                "ProductNumber": "NO-SUCH", "OrderedSalesQuantity": 1})
    assert line.status_code == 400 and "Item number NO-SUCH does not exist." in line.json()["error"]["innererror"]["message"]


def test_a_quotation_from_sales_keeps_its_number(fno, product):
    created = fno.post("CDSSalesQuotationHeaders", json={"SalesQuotationNumber": "QUO-01000-AAAAAA", "RequestingCustomerAccountNumber": "US-002"})
    assert created.status_code == 201, created.text
    assert created.json()["SalesQuotationStatus"] == "Created"


def test_confirm_totals_deliver_and_invoice(tenant, fno, product):
    store = tenant.fno.store
    number = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": "US-001"}, [
        {"ProductNumber": product["ProductNumber"], "OrderedSalesQuantity": Decimal(2)},
        {"ProductNumber": product["ProductNumber"], "OrderedSalesQuantity": Decimal(1)}])
    assert number.startswith("SO-") and len(number) == 9
    sales_process.confirm_order(store, "usmf", number)
    header = _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")
    assert header["SalesOrderProcessingStatus"] == "Confirmed" and header["AreTotalsUpdated"] == "No"
    assert sales_process.calculate_sales_totals(store) >= 1
    header = _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")
    net = 3 * Decimal(str(product["SalesPrice"]))
    tax = sum(Decimal(str(line["TotalTaxAmount"])) for line in _lines(fno, number))
    assert header["AreTotalsUpdated"] == "Yes" and Decimal(str(header["OrderTotalAmount"])) == net + tax
    assert {line["AreTotalsCalculated"] for line in _lines(fno, number)} == {"Yes"}
    patched = fno.patch(f"CDSSalesOrderLines(dataAreaId='usmf',SalesOrderNumber='{number}',LineCreationSequenceNumber=2)",
                        json={"OrderedSalesQuantity": 4})
    assert patched.status_code == 204, patched.text
    assert _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")["AreTotalsUpdated"] == "No"
    sales_process.deliver_order(store, "usmf", number)
    assert {line["SalesOrderLineStatus"] for line in _lines(fno, number)} == {"Delivered"}
    invoice = sales_process.invoice_order(store, "usmf", number, line_numbers=[1])
    assert _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")["SalesOrderProcessingStatus"] == \
        "DeliveredPartiallyInvoiced"
    headers = _get(fno, f"ExternallyMaintainedCustomerSalesInvoiceHeaders?$filter=InvoiceNumber eq '{invoice}'")["value"]
    assert len(headers) == 1 and headers[0]["SalesOrderNumber"] == number and headers[0]["InvoiceCustomerAccountNumber"] == "US-001"
    lines = _get(fno, f"ExternallyMaintainedCustomerSalesInvoiceLines?$filter=InvoiceNumber eq '{invoice}'")["value"]
    assert [(line["LineCreationSequenceNumber"], line["InvoicedQuantity"]) for line in lines] == [(1, 2)]
    second = sales_process.invoice_order(store, "usmf", number)
    assert second != invoice
    final = _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")
    assert (final["SalesOrderProcessingStatus"], final["SalesOrderStatus"]) == ("Invoiced", "Invoiced")


def test_invoices_of_customers_not_maintained_externally_stay_out_of_the_entity(tenant, fno, product):
    store = tenant.fno.store
    number = sales_process.create_order(store, "usmf", {"OrderingCustomerAccountNumber": "US-003"},
                                        [{"ProductNumber": product["ProductNumber"], "OrderedSalesQuantity": Decimal(1)}])
    with pytest.raises(Exception, match="cannot be delivered in status Active"):
        sales_process.deliver_order(store, "usmf", number)
    sales_process.confirm_order(store, "usmf", number)
    invoice = sales_process.invoice_order(store, "usmf", number)
    assert invoice.startswith("CIV-")
    assert _get(fno, f"ExternallyMaintainedCustomerSalesInvoiceHeaders?$filter=InvoiceNumber eq '{invoice}'")["value"] == []
    assert _get(fno, f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{number}')")["SalesOrderProcessingStatus"] == "Invoiced"


def test_a_quotation_made_in_fno_gets_the_next_sq_number(fno):
    numbers = []
    for _ in range(2):
        created = fno.post("CDSSalesQuotationHeaders", json={"RequestingCustomerAccountNumber": "US-002"})
        assert created.status_code == 201, created.text
        numbers.append(created.json()["SalesQuotationNumber"])
    assert all(re.fullmatch(r"SQ-\d{6}", number) for number in numbers)
    assert int(numbers[1][3:]) == int(numbers[0][3:]) + 1
    stored = _get(fno, f"CDSSalesQuotationHeaders(dataAreaId='usmf',SalesQuotationNumber='{numbers[0]}')")
    assert stored["RequestingCustomerAccountNumber"] == "US-002"
