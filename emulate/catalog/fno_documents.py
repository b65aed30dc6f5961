"""F&O sales quotations, sales orders and externally maintained customer invoices (p2c-mappings.md 5-7) [META].

The order entities carry the customer's externally-maintained flags and the processing status
on the lines too (joined from the header in the real entity). None of these entities has a
modified date-time (OrderCreationDateTime is the only stamp on orders).
"""

from emulate.catalog.fno import FNO_ENUMS, amounts, enum, fno, record_ids, strings
from emulate.schema import EntitySet, NavigationProperty

_DELIVERY = ("DeliveryAddressStreet", "DeliveryAddressStreetNumber", "DeliveryAddressCity", "DeliveryAddressStateId",
             "DeliveryAddressZipCode", "DeliveryAddressCountyId", "DeliveryAddressCountryRegionISOCode")
_INVOICE_ADDRESS = ("InvoiceAddressStreet", "InvoiceAddressStreetNumber", "InvoiceAddressCity", "InvoiceAddressStateId",
                    "InvoiceAddressZipCode", "InvoiceAddressCountyId", "InvoiceAddressCountryRegionISOCode")


# Navigation properties as the real `$metadata` names them (SAP Cloud SDK client generated from an F&O
# `$metadata`, github ntrtd/d365-agent asset/client/src/CdsSalesQuotationHeadersApi.ts, CdsSalesQuotationLinesApi.ts,
# CdsSalesOrderHeadersApi.ts, CdsSalesOrderLinesV2.ts): header -> lines many, line -> header one. The invoice
# entities (ExternallyMaintainedCustomerSalesInvoiceHeaders/Lines) declare none there, so none here.
_QUOTATION_LINK = (("dataAreaId", "dataAreaId"), ("SalesQuotationNumber", "SalesQuotationNumber"))
_ORDER_LINK = (("dataAreaId", "dataAreaId"), ("SalesOrderNumber", "SalesOrderNumber"))
_QUOTATION_HEADER_NAVIGATIONS = (
    NavigationProperty("CDSSalesQuotationLines", "CDSSalesQuotationLines", _QUOTATION_LINK, single=False,
                       partner="CDSSalesQuotationHeader"),)
_QUOTATION_LINE_NAVIGATIONS = (
    NavigationProperty("CDSSalesQuotationHeader", "CDSSalesQuotationHeaders", _QUOTATION_LINK, single=True,
                       partner="CDSSalesQuotationLines"),)
_ORDER_HEADER_NAVIGATIONS = (
    NavigationProperty("CDSSalesOrderLines", "CDSSalesOrderLines", _ORDER_LINK, single=False, partner="CDSSalesOrderHeader"),)
_ORDER_LINE_NAVIGATIONS = (
    NavigationProperty("CDSSalesOrderHeader", "CDSSalesOrderHeaders", _ORDER_LINK, single=True, partner="CDSSalesOrderLines"),)


def _document(name: str, type_name: str, key: tuple[str, ...], entity_class: str, table_label: str, *columns,
              navigations: tuple[NavigationProperty, ...] = ()) -> EntitySet:
    return EntitySet(name=name, type_name=f"Microsoft.Dynamics.DataEntities.{type_name}", table=f"fno_{name}", key=key,
                     enums=FNO_ENUMS, required=tuple(k for k in key if k != "dataAreaId"), entity_class=entity_class,
                     table_label=table_label, columns=(*columns, *record_ids()), navigations=navigations)


QUOTATION_HEADERS = _document(
    "CDSSalesQuotationHeaders", "CDSSalesQuotationHeader", ("dataAreaId", "SalesQuotationNumber"),
    "SalesQuotationHeaderCDSEntity", "Sales quotations (SalesQuotationTable)",
    fno("dataAreaId", label="Company"), fno("SalesQuotationNumber", label="Quotation"),
    *strings("RequestingCustomerAccountNumber", "InvoiceCustomerAccountNumber", "CurrencyCode", "SalesQuotationName",
             *_DELIVERY, "DefaultShippingSiteId", "DefaultShippingWarehouseId", "LanguageId"),
    fno("RequestedShippingDate", "datetime"), fno("SalesQuotationExpiryDate", "datetime"),
    enum("SalesQuotationStatus", "SalesQuotationStatus"),
    enum("AreTotalsCalculated", "NoYes"),
    *amounts("TotalDiscountAmount", "QuotationTotalAmount", "QuotationTotalTaxAmount", "QuotationTotalChargesAmount"),
    fno("QuotationCreationDateTime", "datetime", read_only=True),
    navigations=_QUOTATION_HEADER_NAVIGATIONS,
)

QUOTATION_LINES = _document(
    "CDSSalesQuotationLines", "CDSSalesQuotationLine", ("dataAreaId", "SalesQuotationNumber", "LineCreationSequenceNumber"),
    "SalesQuotationLineCDSEntity", "Quotation lines (SalesQuotationLine)",
    fno("dataAreaId", label="Company"), fno("SalesQuotationNumber", label="Quotation"),
    fno("LineCreationSequenceNumber", "int", label="Line creation sequence number"),
    *strings("ProductNumber", "ProductName", "SalesUnitSymbol", "ShippingSiteId", "ShippingWarehouseId"),
    *amounts("RequestedSalesQuantity", "SalesPrice", "LineDiscountAmount", "LineDiscountPercentage", "FixedPriceCharges",
             "LineAmount"),
    fno("RequestedShippingDate", "datetime"),
    navigations=_QUOTATION_LINE_NAVIGATIONS,
)

ORDER_HEADERS = _document(
    "CDSSalesOrderHeaders", "CDSSalesOrderHeader", ("dataAreaId", "SalesOrderNumber"),
    "SalesOrderHeaderCDSEntity", "Sales orders (SalesTable)",
    fno("dataAreaId", label="Company"), fno("SalesOrderNumber", label="Sales order"),
    *strings("OrderingCustomerAccountNumber", "InvoiceCustomerAccountNumber", "CurrencyCode", "SalesOrderName",
             *_DELIVERY, *_INVOICE_ADDRESS, "DefaultShippingSiteId", "DefaultShippingWarehouseId", "LanguageId",
             "QuotationNumber", "CustomersOrderReference"),
    enum("SalesOrderProcessingStatus", "SalesOrderProcessingStatus"),
    enum("SalesOrderStatus", "SalesStatus"),
    enum("OrderingCustomerIsExternallyMaintained", "NoYes", read_only=True),  # from the customer's IsExternallyMaintained
    enum("InvoiceCustomerIsExternallyMaintained", "NoYes", read_only=True),
    enum("AreTotalsUpdated", "NoYes"),  # Yes once the "Calculate sales totals" batch has run since the last change
    enum("SalesOrderOriginType", "SalesOriginType"),
    fno("RequestedShippingDate", "datetime"), fno("ConfirmedShippingDate", "datetime"),
    *amounts("OrderTotalAmount", "TotalDiscountAmount", "OrderTotalDiscountAmount", "OrderTotalTaxAmount",
             "OrderHeaderTaxAmount", "OrderTotalChargesAmount"),
    fno("OrderCreationDateTime", "datetime", read_only=True),
    navigations=_ORDER_HEADER_NAVIGATIONS,
)

ORDER_LINES = _document(
    "CDSSalesOrderLines", "CDSSalesOrderLine", ("dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"),
    "SalesOrderLineCDSEntity", "Order lines (SalesLine)",
    fno("dataAreaId", label="Company"), fno("SalesOrderNumber", label="Sales order"),
    fno("LineCreationSequenceNumber", "int", label="Line creation sequence number"),
    *strings("ProductNumber", "ProductName", "SalesUnitSymbol", "ShippingSiteId", "ShippingWarehouseId"),
    *amounts("OrderedSalesQuantity", "SalesPrice", "LineDiscountAmount", "LineDiscountPercentage", "MultilineDiscountAmount",
             "TotalDiscountAmount", "FixedPriceCharges", "TotalChargesAmount", "TotalTaxAmount", "LineAmount"),
    enum("SalesOrderLineStatus", "SalesStatus"),
    fno("RequestedShippingDate", "datetime"), fno("ConfirmedShippingDate", "datetime"),
    enum("OrderingCustomerIsExternallyMaintained", "NoYes", read_only=True),
    enum("InvoiceCustomerIsExternallyMaintained", "NoYes", read_only=True),
    enum("SalesOrderProcessingStatus", "SalesOrderProcessingStatus", read_only=True),
    enum("AreSalesOrderTotalsUpdated", "NoYes", read_only=True),
    enum("AreTotalsCalculated", "NoYes", read_only=True),
    enum("SalesOrderOriginType", "SalesOriginType", read_only=True),
    navigations=_ORDER_LINE_NAVIGATIONS,
)

INVOICE_HEADERS = _document(  # rows exist only for customers that are externally maintained
    "ExternallyMaintainedCustomerSalesInvoiceHeaders", "ExternallyMaintainedCustomerSalesInvoiceHeader",
    ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LedgerVoucher"),
    "CustInvoiceJourExternallyMaintainedEntity", "Customer invoice journal (CustInvoiceJour)",
    fno("dataAreaId", label="Company"), fno("InvoiceNumber", label="Invoice"), fno("InvoiceDate", "datetime", label="Date"),
    fno("LedgerVoucher", label="Voucher"),
    *strings("SalesOrderNumber", "InvoiceCustomerAccountNumber", "CurrencyCode", "CustomersOrderReference",
             "InvoiceAddressStreet", "InvoiceAddressStreetNumber", "InvoiceAddressCity", "InvoiceAddressState",
             "InvoiceAddressZipCode", "InvoiceAddressCountryRegionId", "InvoiceAddressCountryRegionISOCode",
             "DeliveryTermsCode", "DeliveryModeCode", "PaymentTermsName", "ContactPersonId",
             "SalesOrderResponsiblePersonnelNumber"),
    enum("SalesOrderOriginType", "SalesOriginType"),
    *amounts("TotalInvoiceAmount", "TotalTaxAmount", "TotalChargeAmount", "TotalDiscountAmount", "InvoiceHeaderTaxAmount",
             "TotalDiscountCustomerGroupCode"),  # Edm.Decimal in the real $metadata
)

INVOICE_LINES = _document(
    "ExternallyMaintainedCustomerSalesInvoiceLines", "ExternallyMaintainedCustomerSalesInvoiceLine",
    ("dataAreaId", "InvoiceNumber", "InvoiceDate", "LineCreationSequenceNumber", "LedgerVoucher"),
    "CustInvoiceTransExternallyMaintainedEntity", "Customer invoice lines (CustInvoiceTrans)",
    fno("dataAreaId", label="Company"), fno("InvoiceNumber", label="Invoice"), fno("InvoiceDate", "datetime", label="Date"),
    fno("LineCreationSequenceNumber", "int", label="Line creation sequence number"), fno("LedgerVoucher", label="Voucher"),
    *strings("ProductNumber", "ProductName", "ProductDescription", "SalesUnitSymbol", "CurrencyCode"),
    *amounts("InvoicedQuantity", "SalesPrice", "LineAmount", "LineTotalDiscountAmount", "LineTotalTaxAmount",
             "LineTotalChargeAmount"),
    fno("ConfirmedShippingDate", "datetime"),
)
