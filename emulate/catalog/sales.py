"""Sales (Dataverse) parties, products and reference tables, with the P2C solution columns.

Column names, option values and lookups follow p2c-mappings.md 1.2 and the platform's
standard tables (Web API names: a lookup is stored as `_<name>_value` and written through
its navigation property, `<navigation>@odata.bind`).
"""

from emulate.schema import Column, EntitySet, Lookup


def text(name: str, max_length: int = 0, **kw) -> Column:
    return Column(name, "string", max_length=max_length, **kw)


def texts(*names: str, max_length: int = 0) -> tuple[Column, ...]:
    return tuple(Column(n, "string", max_length=max_length) for n in names)


def lookup(name: str, target: str, *more: tuple[str, str], navigation: str = "", **kw) -> Column:
    """`_<name>_value`, bound through `navigation` (default `name`); `more` adds (navigation, target) pairs."""
    return Column(f"_{name}_value", "guid", lookup=Lookup(navigation or name, target),
                  more_lookups=tuple(Lookup(nav, set_) for nav, set_ in more), **kw)


def flag(name: str, default: bool = False) -> Column:
    return Column(name, "bool", default=default)


def state(*options: tuple[int, str]) -> Column:
    return Column("statecode", "int", nullable=False, options=options, default=options[0][0])


def status(*options: tuple[int, str], default: int = 1) -> Column:
    return Column("statuscode", "int", options=options, default=default)


def stamps(owned: bool = True) -> tuple[Column, ...]:
    """createdon/modifiedon/versionnumber (maintained by the service) and, for user-owned tables, ownerid."""
    owner = (lookup("ownerid", "systemusers"),) if owned else ()
    return (*owner, Column("createdon", "datetime", read_only=True), Column("modifiedon", "datetime", read_only=True),
            Column("versionnumber", "bigint", read_only=True))


def address(prefix: str, *parts: str) -> tuple[Column, ...]:
    return texts(*(f"{prefix}_{p}" for p in parts), max_length=250)


ADDRESS_PARTS = ("line1", "city", "stateorprovince", "postalcode", "county", "country")
ACTIVE_INACTIVE = ((0, "Active"), (1, "Inactive"))

ACCOUNTS = EntitySet(
    name="accounts", type_name="Microsoft.Dynamics.CRM.account", table="sales_accounts",
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    key=("accountid",),  # no alternate key: P2C 15.0.0.2 removed msdynce_AccountNumber (p2c-mappings 1.2)
    columns=(
        Column("accountid", "guid", nullable=False),
        text("accountnumber", 20),  # P2C: required, ACC-#####-XXXXXX
        text("name", 160),
        *address("address1", *ADDRESS_PARTS), *address("address2", *ADDRESS_PARTS),
        *texts("telephone1", "fax", "emailaddress1", "websiteurl", max_length=100),
        lookup("transactioncurrencyid", "transactioncurrencies"),
        Column("creditlimit", "decimal"),  # Money in Dataverse; kept Decimal as the accounts flow was built on it
        Column("description", "string"),
        Column("numberofemployees", "int"),
        Column("customertypecode", "int", options=(
            (1, "Competitor"), (2, "Consultant"), (3, "Customer"), (4, "Investor"), (5, "Partner"), (6, "Influencer"),
            (7, "Press"), (8, "Prospect"), (9, "Reseller"), (10, "Supplier"), (11, "Vendor"), (12, "Other"))),
        state(*ACTIVE_INACTIVE),
        status((1, "Active"), (2, "Inactive")),
        *stamps(),
    ),
)

CONTACTS = EntitySet(
    name="contacts", type_name="Microsoft.Dynamics.CRM.contact", table="sales_contacts",
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    key=("contactid",), alternate_keys=(("msdynce_contactnumber",),),  # P2C key msdynce_ContactNumber
    columns=(
        Column("contactid", "guid", nullable=False),
        text("msdynce_contactnumber", 20),  # P2C: required, CON-#####-XXXXXX
        *texts("firstname", "middlename", "lastname", max_length=50),
        text("fullname", 160, read_only=True),
        *texts("jobtitle", "department", max_length=100),
        *texts("emailaddress1", "telephone1", "fax", "websiteurl", max_length=100),
        *address("address1", *ADDRESS_PARTS), *address("address2", *ADDRESS_PARTS),
        Column("gendercode", "int", options=((1, "Male"), (2, "Female"))),
        Column("familystatuscode", "int", options=((1, "Single"), (2, "Married"), (3, "Divorced"), (4, "Widowed"))),
        Column("accountrolecode", "int", options=((1, "Decision Maker"), (2, "Employee"), (3, "Influencer"))),
        *texts("spousesname", "governmentid", max_length=100),
        Column("description", "string"),
        lookup("parentcustomerid", "accounts", ("parentcustomerid_contact", "contacts"), navigation="parentcustomerid_account"),
        lookup("transactioncurrencyid", "transactioncurrencies"),
        flag("msdynce_isactivecustomer"),  # P2C: set once a quote/order/invoice names the contact as customer
        flag("msdynce_iscompanyanaccount"),  # P2C: the parent customer is an account
        state(*ACTIVE_INACTIVE),
        status((1, "Active"), (2, "Inactive")),
        *stamps(),
    ),
)

PRODUCTS = EntitySet(
    name="products", type_name="Microsoft.Dynamics.CRM.product", table="sales_products", key=("productid",),
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    columns=(
        Column("productid", "guid", nullable=False),
        text("productnumber", 100),  # natural key of the products flow (each variant is its own product)
        text("name", 100),
        Column("description", "string"),
        Column("producttypecode", "int", options=((1, "Sales Inventory"), (2, "Miscellaneous Charges"), (3, "Services"), (4, "Flat Fees"))),
        Column("productstructure", "int", options=((1, "Product"), (2, "Product Family"), (3, "Product Bundle")), default=1),
        lookup("parentproductid", "products"),
        lookup("defaultuomid", "uoms"),
        lookup("defaultuomscheduleid", "uomschedules"),
        lookup("pricelevelid", "pricelevels"),
        lookup("transactioncurrencyid", "transactioncurrencies"),
        Column("price", "money"),
        Column("currentcost", "money"),
        Column("standardcost", "money"),
        Column("quantitydecimal", "int", default=0),
        flag("msdynce_ismaintainedexternally"),  # P2C: Yes = from F&O, No = created in Sales
        state((0, "Active"), (1, "Retired"), (2, "Draft"), (3, "Under Revision")),
        status((1, "Active"), (2, "Retired"), (0, "Draft"), (3, "Under Revision")),
        *stamps(owned=False),  # products are organization-owned
    ),
)

TRANSACTION_CURRENCIES = EntitySet(
    name="transactioncurrencies", type_name="Microsoft.Dynamics.CRM.transactioncurrency",
    table="sales_transactioncurrencies", key=("transactioncurrencyid",),
    columns=(
        Column("transactioncurrencyid", "guid", nullable=False),
        text("isocurrencycode", 5),
        text("currencyname", 100),
        text("currencysymbol", 10),
        Column("exchangerate", "decimal"),
        state(*ACTIVE_INACTIVE),
        Column("modifiedon", "datetime", read_only=True),
        Column("versionnumber", "bigint", read_only=True),
    ),
)

UOM_SCHEDULES = EntitySet(
    name="uomschedules", type_name="Microsoft.Dynamics.CRM.uomschedule", table="sales_uomschedules", key=("uomscheduleid",),
    columns=(
        Column("uomscheduleid", "guid", nullable=False),
        text("name", 200),
        text("baseuomname", 100),
        Column("description", "string"),
        state(*ACTIVE_INACTIVE),
        status((1, "Active"), (2, "Inactive")),
        *stamps(owned=False),
    ),
)

UOMS = EntitySet(  # units have no state of their own
    name="uoms", type_name="Microsoft.Dynamics.CRM.uom", table="sales_uoms", key=("uomid",),
    columns=(
        Column("uomid", "guid", nullable=False),
        text("name", 100),  # equals the F&O unit symbol (decisions.md 13)
        lookup("uomscheduleid", "uomschedules"),
        lookup("baseuom", "uoms"),
        Column("quantity", "decimal"),
        Column("isschedulebaseuom", "bool", read_only=True, default=False),
        *stamps(owned=False),
    ),
)

PRICE_LEVELS = EntitySet(
    name="pricelevels", type_name="Microsoft.Dynamics.CRM.pricelevel", table="sales_pricelevels", key=("pricelevelid",),
    columns=(
        Column("pricelevelid", "guid", nullable=False),
        text("name", 100),
        lookup("transactioncurrencyid", "transactioncurrencies"),
        Column("begindate", "date"),
        Column("enddate", "date"),
        Column("description", "string"),
        state(*ACTIVE_INACTIVE),
        status((100001, "Active"), (100002, "Inactive"), default=100001),
        *stamps(owned=False),
    ),
)

PRODUCT_PRICE_LEVELS = EntitySet(  # price list items have no state of their own
    name="productpricelevels", type_name="Microsoft.Dynamics.CRM.productpricelevel", table="sales_productpricelevels",
    key=("productpricelevelid",),
    columns=(
        Column("productpricelevelid", "guid", nullable=False),
        lookup("pricelevelid", "pricelevels"),
        lookup("productid", "products"),
        lookup("uomid", "uoms"),
        lookup("uomscheduleid", "uomschedules"),
        lookup("transactioncurrencyid", "transactioncurrencies"),
        Column("amount", "money"),
        Column("pricingmethodcode", "int", options=((1, "Currency Amount"), (2, "Percent of List"), (3, "Percent Markup - Current Cost"),
                                                    (4, "Percent Margin - Current Cost"), (5, "Percent Markup - Standard Cost"),
                                                    (6, "Percent Margin - Standard Cost")), default=1),
        Column("quantitysellingcode", "int", options=((1, "No Control"), (2, "Whole"), (3, "Whole and Fractional")), default=1),
        *stamps(owned=False),
    ),
)

SYSTEM_USERS = EntitySet(
    name="systemusers", type_name="Microsoft.Dynamics.CRM.systemuser", table="sales_systemusers", key=("systemuserid",),
    columns=(
        Column("systemuserid", "guid", nullable=False),
        text("fullname", 200),
        text("domainname", 1024),
        text("internalemailaddress", 100),
        Column("applicationid", "guid"),
        Column("isdisabled", "bool", default=False),
        Column("modifiedon", "datetime", read_only=True),
        Column("versionnumber", "bigint", read_only=True),
    ),
)
