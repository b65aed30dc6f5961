"""The entity sets each emulated service serves (definitions only, no behaviour)."""

from emulate.schema import Column, EntitySet, Lookup

DEFAULT_COMPANY = "usmf"
COMPANIES = ("usmf", "demf")


def _strings(*names: str, max_length: int = 0) -> tuple[Column, ...]:
    return tuple(Column(n, "string", max_length=max_length) for n in names)


_ADDRESS = ("line1", "city", "stateorprovince", "postalcode", "county", "country")

ACCOUNTS = EntitySet(
    name="accounts", type_name="Microsoft.Dynamics.CRM.account", table="sales_accounts",
    key=("accountid",), alternate_keys=(("accountnumber",),),
    columns=(
        Column("accountid", "guid", nullable=False),
        Column("accountnumber", "string", max_length=20),
        Column("name", "string", max_length=160),
        *_strings(*(f"address1_{p}" for p in _ADDRESS), *(f"address2_{p}" for p in _ADDRESS), max_length=250),
        *_strings("telephone1", "fax", "emailaddress1", "websiteurl", max_length=100),
        Column("_transactioncurrencyid_value", "guid",
               lookup=Lookup(navigation="transactioncurrencyid", target="transactioncurrencies")),
        Column("creditlimit", "decimal"),
        Column("description", "string"),
        Column("numberofemployees", "int"),
        Column("customertypecode", "int"),
        Column("statecode", "int", nullable=False),
        Column("statuscode", "int"),
        Column("createdon", "datetime", read_only=True),
        Column("modifiedon", "datetime", read_only=True),
        Column("versionnumber", "bigint", read_only=True),
    ),
)

TRANSACTION_CURRENCIES = EntitySet(
    name="transactioncurrencies", type_name="Microsoft.Dynamics.CRM.transactioncurrency",
    table="sales_transactioncurrencies", key=("transactioncurrencyid",),
    columns=(
        Column("transactioncurrencyid", "guid", nullable=False),
        Column("isocurrencycode", "string", max_length=5),
        Column("currencyname", "string", max_length=100),
        Column("currencysymbol", "string", max_length=10),
        Column("exchangerate", "decimal"),
        Column("statecode", "int", nullable=False),
        Column("modifiedon", "datetime", read_only=True),
        Column("versionnumber", "bigint", read_only=True),
    ),
)

SALES_ENTITY_SETS = {e.name: e for e in (ACCOUNTS, TRANSACTION_CURRENCIES)}

FNO_ENUMS = {
    "NoYes": ("No", "Yes"),
    "DirPartyBaseType": ("Organization", "Person"),
}


def _fno(name: str, type_: str = "string", **kw) -> Column:
    return Column(name, type_, nullable=False, **kw)


CUSTOMERS_V2 = EntitySet(
    name="CustomersV2", type_name="Microsoft.Dynamics.DataEntities.CustomerV2", table="fno_CustomersV2",
    key=("dataAreaId", "CustomerAccount"), enums=FNO_ENUMS,
    required=("CustomerAccount", "CustomerGroupId"),
    entity_class="CustCustomerV2Entity", table_label="Customers (CustTable)",
    columns=(
        _fno("dataAreaId", label="Company"), _fno("CustomerAccount", label="Customer account"), _fno("PartyNumber"),
        _fno("PartyType", "enum", enum="DirPartyBaseType"),
        _fno("OrganizationName"), _fno("CustomerGroupId", label="Customer group"),
        *(_fno(n) for n in ("SiteId", "WarehouseId", "LanguageId")),
        _fno("IsExternallyMaintained", "enum", enum="NoYes"),
        *(_fno(n) for n in (
            "SalesCurrencyCode", "AddressStreet", "AddressCity", "AddressZipCode", "AddressState", "AddressCounty",
            "AddressCountryRegionISOCode", "InvoiceAddressStreet", "InvoiceAddressCity", "InvoiceAddressZipCode",
            "InvoiceAddressState", "InvoiceAddressCounty", "InvoiceAddressCountryRegionISOCode",
            "PrimaryContactPhone", "PrimaryContactFax", "PrimaryContactEmail", "PrimaryContactURL")),
        _fno("CreditLimit", "decimal"),
        _fno("SalesMemo"),
        _fno("OrganizationNumberOfEmployees", "int"),
        _fno("RecId", "bigint", hidden=True),
        _fno("RecVersion", "bigint", hidden=True),
    ),
)

FNO_ENTITY_SETS = {e.name: e for e in (CUSTOMERS_V2,)}
