"""The catalog as data: every entity of the six flows on both sides, with the spec's names, keys and values."""

import pytest

from emulate.catalog import FNO_ENTITY_SETS, FNO_ENUMS, SALES_ENTITY_SETS

P2C_COLUMNS = {  # p2c-mappings.md 1.2, columns added by the P2C solution
    "contacts": {"msdynce_contactnumber", "msdynce_isactivecustomer", "msdynce_iscompanyanaccount"},
    "products": {"msdynce_ismaintainedexternally"},
    "quotes": {"msdynce_hasexternallymaintainedproductsonly", "msdynce_ismaintainedexternally"},
    "quotedetails": {"msdynce_ismaintainedexternally", "msdynce_quotehasexternalmaintainedproductsonly", "msdynce_quoterevisionnumber"},
    "salesorders": {"msdynce_processingstatus", "msdynce_hasexternallymaintainedproductsonly", "msdynce_ismaintainedexternally",
                    "msdynce_misctax"},
    "salesorderdetails": {"msdynce_ismaintainedexternally", "msdynce_ismisctax", "msdynce_orderhasexternalmaintainedproductsonly",
                          "msdynce_orderissubmitted", "msdynce_ordernumber"},
    "invoices": {"msdynce_invoicedate", "msdynce_hasexternallymaintainedproductsonly", "msdynce_ismaintainedexternally",
                 "msdynce_misctax"},
    "invoicedetails": {"msdynce_invoicedate", "msdynce_invoicenumber", "msdynce_ismaintainedexternally", "msdynce_ismisctax"},
}
FNO_KEYS = {  # p2c-mappings.md 1.1 [META]
    "CustomersV2": ("dataAreaId", "CustomerAccount"),
    "CDSContactPersons": ("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"),
    "SellableReleasedProducts": ("dataAreaId", "ProductNumber"),
    "CDSSalesQuotationHeaders": ("dataAreaId", "SalesQuotationNumber"),
    "CDSSalesQuotationLines": ("dataAreaId", "SalesQuotationNumber", "LineCreationSequenceNumber"),
    "CDSSalesOrderHeaders": ("dataAreaId", "SalesOrderNumber"),
    "CDSSalesOrderLines": ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"),
    "ExternallyMaintainedCustomerSalesInvoiceHeaders": ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LedgerVoucher"),
    "ExternallyMaintainedCustomerSalesInvoiceLines": ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LineCreationSequenceNumber",
                                                      "LedgerVoucher"),
}


@pytest.mark.parametrize("entity_set, columns", sorted(P2C_COLUMNS.items()))
def test_sales_tables_carry_the_p2c_solution_columns(entity_set, columns):
    entity = SALES_ENTITY_SETS[entity_set]
    assert columns <= {c.name for c in entity.served}


def test_every_sales_lookup_targets_a_served_set_and_customer_is_polymorphic():
    for entity in SALES_ENTITY_SETS.values():
        for navigation, column in entity.lookups.items():
            assert column.lookup.target in SALES_ENTITY_SETS, (entity.name, navigation)
            assert column.name.startswith("_") and column.name.endswith("_value")
    for name in ("quotes", "salesorders", "invoices"):
        lookups = SALES_ENTITY_SETS[name].lookups
        assert lookups["customerid_account"].lookup.target == "accounts"
        assert lookups["customerid_contact"].lookup.target == "contacts"
        assert lookups["customerid_account"].name == lookups["customerid_contact"].name == "_customerid_value"
        assert lookups["ownerid"].lookup.target == "systemusers"
    assert SALES_ENTITY_SETS["contacts"].alternate_keys == (("msdynce_contactnumber",),)


def test_state_status_and_processing_status_values():
    orders = SALES_ENTITY_SETS["salesorders"]
    assert dict(orders.column("statecode").options)[4] == "Invoiced"
    assert dict(orders.column("statuscode").options)[100003] == "Invoiced"
    processing = dict(orders.column("msdynce_processingstatus").options)
    assert processing[647390011] == "Draft" and processing[647390000] == "Active" and processing[647390009] == "Partially Invoiced"
    assert orders.column("msdynce_processingstatus").default == 647390011
    assert dict(SALES_ENTITY_SETS["quotes"].column("statuscode").options)[647390000] == "Submitted"
    assert SALES_ENTITY_SETS["quotes"].column("msdynce_hasexternallymaintainedproductsonly").default is True
    assert dict(SALES_ENTITY_SETS["products"].column("producttypecode").options)[3] == "Services"


@pytest.mark.parametrize("entity_set, key", sorted(FNO_KEYS.items()))
def test_fno_entities_have_the_metadata_keys(entity_set, key):
    entity = FNO_ENTITY_SETS[entity_set]
    assert entity.key == key
    for column in entity.served:
        if column.type == "enum":
            assert column.enum in FNO_ENUMS


def test_fno_enums_and_flow_fields():
    assert FNO_ENUMS["SalesOrderProcessingStatus"][0] == "Active" and "DeliveredPartiallyInvoiced" in FNO_ENUMS["SalesOrderProcessingStatus"]
    assert FNO_ENUMS["SalesOriginType"] == ("NotSpecified", "SalesOrderIntegration", "WorkOrderIntegration")
    lines = {c.name for c in FNO_ENTITY_SETS["CDSSalesOrderLines"].served}
    assert {"OrderingCustomerIsExternallyMaintained", "InvoiceCustomerIsExternallyMaintained", "SalesOrderProcessingStatus",
            "AreSalesOrderTotalsUpdated", "AreTotalsCalculated", "SalesOrderOriginType", "LineDiscountAmount", "FixedPriceCharges"} <= lines
    headers = {c.name for c in FNO_ENTITY_SETS["CDSSalesOrderHeaders"].served}
    assert {"AreTotalsUpdated", "OrderHeaderTaxAmount", "OrderTotalChargesAmount", "RequestedShippingDate"} <= headers
    assert {"PersonFirstName", "PersonLastName", "IsExternallyMaintained"} <= {c.name for c in FNO_ENTITY_SETS["CustomersV2"].served}


def test_both_services_list_the_new_entity_sets(sales, fno):
    served = {item["name"] for item in sales.get("").json()["value"]}
    assert set(SALES_ENTITY_SETS) <= served
    assert set(FNO_ENTITY_SETS) <= {item["name"] for item in fno.get("").json()["value"]}
