"""F&O (OData /data) companies, enums, customers, contact persons and sellable products.

Names and keys follow the F&O `$metadata` as recorded in p2c-mappings.md 1.1 [META]. F&O
stores blanks rather than nulls: '' for strings, 0 for numbers, the first member of an enum,
1900-01-01 for dates. None of these entities exposes a modified date-time: their `$metadata`
(p2c-mappings.md [META]) has none, so clients detect changes by comparing rows.
"""

from emulate.schema import Column, EntitySet

DEFAULT_COMPANY = "usmf"
COMPANIES = ("usmf", "demf")

FNO_ENUMS = {
    "NoYes": ("No", "Yes"),
    "DirPartyBaseType": ("Organization", "Person"),
    "SalesOrderProcessingStatus": ("Active", "Confirmed", "Picked", "PartiallyDelivered", "Delivered", "Invoiced",
                                   "PartiallyInvoiced", "Canceled", "DeliveredPartiallyInvoiced"),
    "SalesStatus": ("None", "Backorder", "Delivered", "Invoiced", "Canceled"),
    "SalesQuotationStatus": ("Created", "Sent", "Confirmed", "Lost", "Cancelled", "Reset", "Modified", "Submitted",
                             "Approved", "Revised"),
    "EcoResProductType": ("Item", "Service"),
    "SalesOriginType": ("NotSpecified", "SalesOrderIntegration", "WorkOrderIntegration"),
    "Gender": ("Unknown", "Male", "Female", "NonSpecific"),
    "DirPersonMaritalStatus": ("None", "Married", "Single", "Divorced", "Widowed", "Cohabiting"),
}


def fno(name: str, type_: str = "string", **kw) -> Column:
    return Column(name, type_, nullable=False, **kw)


def strings(*names: str) -> tuple[Column, ...]:
    return tuple(fno(n) for n in names)


def enum(name: str, enum_type: str, **kw) -> Column:
    return fno(name, "enum", enum=enum_type, **kw)


def amounts(*names: str) -> tuple[Column, ...]:
    return tuple(fno(n, "decimal") for n in names)


def record_ids() -> tuple[Column, ...]:
    """RecId and RecVersion: stored, never served (the ETag comes from RecVersion)."""
    return fno("RecId", "bigint", hidden=True), fno("RecVersion", "bigint", hidden=True)


CUSTOMERS_V2 = EntitySet(
    name="CustomersV2", type_name="Microsoft.Dynamics.DataEntities.CustomerV2", table="fno_CustomersV2",
    key=("dataAreaId", "CustomerAccount"), enums=FNO_ENUMS,
    required=("CustomerAccount", "CustomerGroupId"),
    entity_class="CustCustomerV2Entity", table_label="Customers (CustTable)",
    columns=(
        fno("dataAreaId", label="Company"), fno("CustomerAccount", label="Customer account"), fno("PartyNumber"),
        enum("PartyType", "DirPartyBaseType"),
        fno("OrganizationName"), fno("CustomerGroupId", label="Customer group"),
        *strings("PersonFirstName", "PersonMiddleName", "PersonLastName", "PersonProfessionalTitle"),
        enum("PersonGender", "Gender"), enum("PersonMaritalStatus", "DirPersonMaritalStatus"),
        *strings("SiteId", "WarehouseId", "LanguageId"),
        enum("IsExternallyMaintained", "NoYes"),
        *strings(
            "SalesCurrencyCode", "AddressStreet", "AddressCity", "AddressZipCode", "AddressState", "AddressCounty",
            "AddressCountryRegionISOCode", "InvoiceAddressStreet", "InvoiceAddressCity", "InvoiceAddressZipCode",
            "InvoiceAddressState", "InvoiceAddressCounty", "InvoiceAddressCountryRegionISOCode",
            "PrimaryContactPhone", "PrimaryContactFax", "PrimaryContactEmail", "PrimaryContactURL"),
        fno("CreditLimit", "decimal"),
        fno("SalesMemo"),
        fno("OrganizationNumberOfEmployees", "int"),
        *record_ids(),
    ),
)

CONTACT_PERSONS = EntitySet(
    name="CDSContactPersons", type_name="Microsoft.Dynamics.DataEntities.CDSContactPerson", table="fno_CDSContactPersons",
    key=("dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"), enums=FNO_ENUMS,
    required=("ContactPersonPartyNumber", "AssociatedPartyNumber"),
    entity_class="ContactPersonCDSEntity", table_label="Contact persons (ContactPerson)",
    columns=(
        fno("dataAreaId", label="Company"), fno("ContactPersonPartyNumber", label="Party number"),
        fno("AssociatedPartyNumber", label="Associated party"), fno("ContactPersonId"),
        *strings("FirstName", "MiddleName", "LastName", "PrimaryEmailAddress", "PrimaryPhoneNumber", "PrimaryFaxNumber",
                 "PrimaryURL", "PrimaryAddressStreet", "PrimaryAddressCity", "PrimaryAddressZipCode", "PrimaryAddressStateId",
                 "PrimaryAddressCountyId", "PrimaryAddressCountryRegionISOCode", "EmploymentProfession",
                 "EmploymentDepartment", "SpouseName", "GovernmentIdentificationNumber", "Notes", "DecisionMakingRoleCode"),
        enum("Gender", "Gender"), enum("MaritalStatus", "DirPersonMaritalStatus"),
        enum("IsContactPersonExternallyMaintained", "NoYes"),
        *record_ids(),
    ),
)

SELLABLE_PRODUCTS = EntitySet(
    name="SellableReleasedProducts", type_name="Microsoft.Dynamics.DataEntities.SellableReleasedProduct",
    table="fno_SellableReleasedProducts", key=("dataAreaId", "ProductNumber"), enums=FNO_ENUMS,
    required=("ProductNumber",),
    entity_class="EcoResSellableReleasedProductEntity", table_label="Released products (InventTable)",
    columns=(
        fno("dataAreaId", label="Company"), fno("ProductNumber", label="Product number"),
        *strings("ProductName", "ProductDescription", "SalesUnitSymbol", "InventoryUnitSymbol", "CurrencyCode"),
        *amounts("SalesPrice", "UnitCost"),
        fno("SalesUnitDecimalPrecision", "int"), fno("InventoryUnitDecimalPrecision", "int"),
        enum("ProductType", "EcoResProductType"),
        enum("IsSalesStopped", "NoYes"), enum("IsStockedProduct", "NoYes"),
        *record_ids(),
    ),
)
