"""F&O first-level `$expand` of document headers and lines, and `$filter` arithmetic (protocols.md 2.2), over HTTPS.

Dataverse refuses arithmetic operators ("Arithmetic operators and the comparison has operator are
not supported in the Web API", Web API query docs), so it is checked to keep doing so.
"""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

ORDER, EMPTY_ORDER = "ORD-05555-EXPAND", "ORD-05556-NOLINE"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def _ok(response) -> dict:
    assert response.status_code in (200, 201), response.text
    return response.json()


def _refused(response) -> str:
    """The F&O error's inner message of a 400."""
    assert response.status_code == 400, response.text
    body = response.json()["error"]
    assert body["message"] == "An error has occurred."
    return body["innererror"]["message"]


@pytest.fixture(scope="module")
def order(fno, tenant) -> list[dict]:
    """An order with two lines (quantities 3 and 4) and an order without lines, both in usmf; returns the lines."""
    product = next(p for p in tenant.fno.rows("SellableReleasedProducts") if p["IsSalesStopped"] == "No" and p["dataAreaId"] == "usmf")
    for number in (ORDER, EMPTY_ORDER):
        _ok(fno.post("CDSSalesOrderHeaders", json={"SalesOrderNumber": number, "OrderingCustomerAccountNumber": "US-001"}))
    return [_ok(fno.post("CDSSalesOrderLines", json={"SalesOrderNumber": ORDER, "LineCreationSequenceNumber": sequence,
                                                     "ProductNumber": product["ProductNumber"], "OrderedSalesQuantity": quantity}))
            for sequence, quantity in ((1, 3), (2, 4))]


def test_expand_lines_on_an_order_header_with_nested_select(fno, tenant, order):
    body = _ok(fno.get(f"CDSSalesOrderHeaders(dataAreaId='usmf',SalesOrderNumber='{ORDER}')",
                       params={"$select": "SalesOrderNumber", "$expand": "CDSSalesOrderLines($select=LineCreationSequenceNumber,ProductNumber)"}))
    assert body["@odata.context"] == (f"{tenant.fno_url}/data/$metadata#CDSSalesOrderHeaders"
                                      "(SalesOrderNumber,CDSSalesOrderLines(LineCreationSequenceNumber,ProductNumber))/$entity")
    assert body["SalesOrderNumber"] == ORDER and "OrderingCustomerAccountNumber" not in body
    lines = sorted(body["CDSSalesOrderLines"], key=lambda line: line["LineCreationSequenceNumber"])
    assert [set(line) for line in lines] == [{"@odata.etag", "LineCreationSequenceNumber", "ProductNumber"}] * 2
    assert [(line["LineCreationSequenceNumber"], line["ProductNumber"]) for line in lines] == \
        [(line["LineCreationSequenceNumber"], line["ProductNumber"]) for line in order]
    assert [line["@odata.etag"] for line in lines] == [line["@odata.etag"] for line in order]


def test_a_collection_navigation_without_rows_is_an_empty_array(fno, order):
    page = _ok(fno.get("CDSSalesOrderHeaders", params={"$filter": f"SalesOrderNumber eq '{EMPTY_ORDER}' or SalesOrderNumber eq '{ORDER}'",
                                                        "$select": "SalesOrderNumber", "$expand": "CDSSalesOrderLines"}))
    expanded = {row["SalesOrderNumber"]: row["CDSSalesOrderLines"] for row in page["value"]}
    assert expanded[EMPTY_ORDER] == []
    assert sorted(line["OrderedSalesQuantity"] for line in expanded[ORDER]) == [3, 4]
    assert all("SalesPrice" in line for line in expanded[ORDER])  # no nested $select: every column


def test_lines_expand_their_header_and_quotations_their_lines(fno, tenant, order):
    page = _ok(fno.get("CDSSalesOrderLines", params={"$filter": f"SalesOrderNumber eq '{ORDER}'", "$select": "LineCreationSequenceNumber",
                                                      "$expand": "CDSSalesOrderHeader($select=SalesOrderNumber,OrderingCustomerAccountNumber)"}))
    headers = [row["CDSSalesOrderHeader"] for row in page["value"]]
    assert len(headers) == 2 and all(h["SalesOrderNumber"] == ORDER and h["OrderingCustomerAccountNumber"] == "US-001" for h in headers)

    quotation = next(q for q in tenant.fno.rows("CDSSalesQuotationHeaders") if q["dataAreaId"] == "usmf")
    stored = sorted(line["LineCreationSequenceNumber"] for line in tenant.fno.rows("CDSSalesQuotationLines")
                    if (line["dataAreaId"], line["SalesQuotationNumber"]) == ("usmf", quotation["SalesQuotationNumber"]))
    body = _ok(fno.get(f"CDSSalesQuotationHeaders(dataAreaId='usmf',SalesQuotationNumber='{quotation['SalesQuotationNumber']}')",
                       params={"$expand": "CDSSalesQuotationLines($select=LineCreationSequenceNumber)"}))
    assert sorted(line["LineCreationSequenceNumber"] for line in body["CDSSalesQuotationLines"]) == stored


def test_second_level_unknown_and_undeclared_expands_are_refused(fno, order):
    nested = fno.get("CDSSalesOrderHeaders", params={"$expand": "CDSSalesOrderLines($expand=CDSSalesOrderHeader)"})
    assert "$expand" in _refused(nested)
    assert "cdssalesorderlines" in _refused(fno.get("CDSSalesOrderHeaders", params={"$expand": "cdssalesorderlines"}))  # names are case-sensitive
    undeclared = fno.get("ExternallyMaintainedCustomerSalesInvoiceHeaders",
                         params={"$expand": "ExternallyMaintainedCustomerSalesInvoiceLines"})
    assert "Could not find a property named 'ExternallyMaintainedCustomerSalesInvoiceLines'" in _refused(undeclared)


def test_metadata_and_public_entities_list_the_navigation_properties(fno, tenant):
    schema = ET.fromstring(fno.get("$metadata").content)
    types = {t.get("Name"): t for t in schema.iter(f"{EDM}EntityType")}
    header_nav = types["CDSSalesOrderHeader"].find(f"{EDM}NavigationProperty")
    assert (header_nav.get("Name"), header_nav.get("Type"), header_nav.get("Partner")) == \
        ("CDSSalesOrderLines", "Collection(Microsoft.Dynamics.DataEntities.CDSSalesOrderLine)", "CDSSalesOrderHeader")
    line_nav = types["CDSSalesOrderLine"].find(f"{EDM}NavigationProperty")
    assert (line_nav.get("Name"), line_nav.get("Type")) == ("CDSSalesOrderHeader", "Microsoft.Dynamics.DataEntities.CDSSalesOrderHeader")
    assert {(c.get("Property"), c.get("ReferencedProperty")) for c in line_nav.findall(f"{EDM}ReferentialConstraint")} == \
        {("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber")}
    assert types["ExternallyMaintainedCustomerSalesInvoiceHeader"].find(f"{EDM}NavigationProperty") is None
    bindings = {(s.get("Name"), b.get("Path"), b.get("Target")) for s in schema.iter(f"{EDM}EntitySet")
                for b in s.findall(f"{EDM}NavigationPropertyBinding")}
    assert ("CDSSalesQuotationHeaders", "CDSSalesQuotationLines", "CDSSalesQuotationLines") in bindings
    assert ("CDSSalesQuotationLines", "CDSSalesQuotationHeader", "CDSSalesQuotationHeaders") in bindings

    public = _ok(fno.get(f"{tenant.fno_url}/Metadata/PublicEntities('CDSSalesQuotationHeader')"))
    [navigation] = public["NavigationProperties"]
    assert (navigation["Name"], navigation["RelatedEntity"], navigation["RelatedRelationName"], navigation["Cardinality"]) == \
        ("CDSSalesQuotationLines", "CDSSalesQuotationLine", "CDSSalesQuotationHeader", "Multiple")
    assert {(c["Property"], c["ReferencedProperty"]) for c in navigation["Constraints"]} == \
        {("dataAreaId", "dataAreaId"), ("SalesQuotationNumber", "SalesQuotationNumber")}


@pytest.mark.parametrize(("arithmetic", "sequences"), [
    ("OrderedSalesQuantity mul 2 gt 7", [2]),
    ("OrderedSalesQuantity sub 4 eq 0", [2]),
    ("(OrderedSalesQuantity add 1) mul 2 eq 8", [1]),
    ("OrderedSalesQuantity add 1 mul 2 eq 5", [1]),  # mul binds tighter than add
    ("LineCreationSequenceNumber mod 2 eq 0", [2]),
    ("LineCreationSequenceNumber div 2 eq 0", [1]),  # integer div truncates
    ("LineCreationSequenceNumber divby 2 eq 0.5", [1]),
    ("10 lt LineAmount div OrderedSalesQuantity sub SalesPrice add 11", [1, 2]),  # LineAmount / qty = price
])
def test_fno_filter_arithmetic(fno, order, arithmetic, sequences):
    page = _ok(fno.get("CDSSalesOrderLines", params={"$filter": f"SalesOrderNumber eq '{ORDER}' and {arithmetic}",
                                                      "$select": "LineCreationSequenceNumber"}))
    assert sorted(row["LineCreationSequenceNumber"] for row in page["value"]) == sequences
    assert Decimal(str(order[0]["LineAmount"])) == 3 * Decimal(str(order[0]["SalesPrice"]))  # the div case's premise


def test_fno_arithmetic_needs_numbers(fno):
    message = _refused(fno.get("CDSSalesOrderLines", params={"$filter": "ProductNumber add 1 eq 2"}))
    assert message == ("A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' "
                       "for operator kind 'Add'.")


@pytest.mark.parametrize("operator", ["add", "sub", "mul", "div", "divby", "mod"])
def test_dataverse_refuses_arithmetic(sales, operator):
    refused = sales.get("accounts", params={"$filter": f"numberofemployees {operator} 2 gt 1"})
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert error["code"] == "0x80060888" and error["message"] == f"The '{operator}' operator is not supported."
    assert sales.get("accounts", params={"$filter": "numberofemployees gt 1", "$top": "1"}).status_code == 200
