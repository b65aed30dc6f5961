"""Sales (Dataverse) quotes, orders and invoices with their lines and the P2C columns (p2c-mappings.md 1.2)."""

from emulate.catalog.sales import address, flag, lookup, stamps, state, status, text
from emulate.schema import Column, EntitySet

# msdynce_processingstatus of sales orders [SOL]; Draft is the default of a new order.
PROCESSING_STATUS = (
    (647390000, "Active"), (647390001, "Confirmed"), (647390002, "Packing Slip"), (647390003, "Invoiced"),
    (647390004, "Picked"), (647390005, "Partially Picked"), (647390006, "Partially Packed"), (647390007, "Shipped"),
    (647390008, "Partially Shipped"), (647390009, "Partially Invoiced"), (647390010, "Cancelled"), (647390011, "Draft"),
)
_SHIP_BILL = ("line1", "line2", "city", "stateorprovince", "postalcode", "country")


def _customer() -> Column:
    """customerid: an account or a contact, as the Web API models it (two navigation properties)."""
    return lookup("customerid", "accounts", ("customerid_contact", "contacts"), navigation="customerid_account")


def _money(*names: str) -> tuple[Column, ...]:
    return tuple(Column(n, "money") for n in names)


_HEADER_COMMON = (
    text("name", 300),
    _customer(),
    lookup("transactioncurrencyid", "transactioncurrencies"),
    lookup("pricelevelid", "pricelevels"),
    *address("shipto", *_SHIP_BILL), *address("billto", *_SHIP_BILL),
    Column("requestdeliveryby", "date"),
    Column("description", "string"),
    *_money("totallineitemamount", "totaldiscountamount", "discountamount", "freightamount", "totalamountlessfreight",
            "totaltax", "totalamount"),
    Column("discountpercentage", "decimal"),
    flag("msdynce_hasexternallymaintainedproductsonly", default=True),
    flag("msdynce_ismaintainedexternally"),
)

_LINE_COMMON = (
    Column("sequencenumber", "int"),  # <-> F&O LineCreationSequenceNumber
    lookup("productid", "products"),
    text("productdescription", 500),  # the product of a write-in line
    flag("isproductoverridden"),  # write-in product
    flag("ispriceoverridden"),
    Column("quantity", "decimal"),
    lookup("uomid", "uoms"),
    *_money("priceperunit", "baseamount", "manualdiscountamount", "tax", "extendedamount"),
    Column("description", "string"),
    Column("requestdeliveryby", "date"),
    lookup("transactioncurrencyid", "transactioncurrencies"),
    flag("msdynce_ismaintainedexternally"),
    *stamps(owned=False),
)

QUOTES = EntitySet(
    name="quotes", type_name="Microsoft.Dynamics.CRM.quote", table="sales_quotes", key=("quoteid",),
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    columns=(
        Column("quoteid", "guid", nullable=False),
        text("quotenumber", 100),  # auto-numbered QUO-#####-XXXXXX when not supplied
        Column("revisionnumber", "int", read_only=True, default=0),
        *_HEADER_COMMON,
        Column("effectivefrom", "date"),
        Column("effectiveto", "date"),
        state((0, "Draft"), (1, "Active"), (2, "Won"), (3, "Closed")),
        status((1, "In Progress"), (2, "In Progress"), (3, "Open"), (4, "Won"), (5, "Lost"), (6, "Canceled"), (7, "Revised"),
               (647390000, "Submitted")),
        *stamps(),
    ),
)

QUOTE_DETAILS = EntitySet(
    name="quotedetails", type_name="Microsoft.Dynamics.CRM.quotedetail", table="sales_quotedetails", key=("quotedetailid",),
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    columns=(
        Column("quotedetailid", "guid", nullable=False),
        lookup("quoteid", "quotes"),
        *_LINE_COMMON,
        flag("msdynce_quotehasexternalmaintainedproductsonly", default=True),  # copy of the header flag
        Column("msdynce_quoterevisionnumber", "int"),
    ),
)

SALES_ORDERS = EntitySet(
    name="salesorders", type_name="Microsoft.Dynamics.CRM.salesorder", table="sales_salesorders", key=("salesorderid",),
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    columns=(
        Column("salesorderid", "guid", nullable=False),
        text("ordernumber", 100),  # auto-numbered ORD-#####-XXXXXX when not supplied
        *_HEADER_COMMON,
        lookup("quoteid", "quotes"),
        Column("datefulfilled", "date"),
        flag("ispricelocked"),
        Column("msdynce_processingstatus", "int", options=PROCESSING_STATUS, default=647390011),
        Column("msdynce_misctax", "money"),  # header tax, kept as one "Freight Tax" write-in line
        state((0, "Active"), (1, "Submitted"), (2, "Canceled"), (3, "Fulfilled"), (4, "Invoiced")),
        status((1, "New"), (2, "Pending"), (3, "In Progress"), (4, "No Money"), (100001, "Complete"), (100002, "Partial"),
               (100003, "Invoiced")),
        *stamps(),
    ),
)

SALES_ORDER_DETAILS = EntitySet(
    name="salesorderdetails", type_name="Microsoft.Dynamics.CRM.salesorderdetail", table="sales_salesorderdetails",
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    key=("salesorderdetailid",),
    columns=(
        Column("salesorderdetailid", "guid", nullable=False),
        lookup("salesorderid", "salesorders"),
        *_LINE_COMMON,
        flag("msdynce_ismisctax"),  # the "Freight Tax" line
        flag("msdynce_orderhasexternalmaintainedproductsonly", default=True),  # copy of the header flag
        flag("msdynce_orderissubmitted"),  # set on every line when the order is activated
        text("msdynce_ordernumber", 100),
    ),
)

INVOICES = EntitySet(
    name="invoices", type_name="Microsoft.Dynamics.CRM.invoice", table="sales_invoices", key=("invoiceid",),
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    columns=(
        Column("invoiceid", "guid", nullable=False),
        text("invoicenumber", 100),  # auto-numbered INV-#####-XXXXXX when not supplied; F&O InvoiceNumber
        *_HEADER_COMMON,
        lookup("salesorderid", "salesorders"),
        flag("ispricelocked"),
        Column("msdynce_invoicedate", "date"),
        Column("msdynce_misctax", "money"),
        state((0, "Active"), (2, "Paid"), (3, "Canceled")),
        status((1, "New"), (2, "Partially Shipped"), (4, "Billed"), (5, "Booked (applies to services)"),
               (6, "Installed (applies to services)"), (100001, "Complete"), (100002, "Partial"), (100003, "Canceled")),
        *stamps(),
    ),
)

INVOICE_DETAILS = EntitySet(
    name="invoicedetails", type_name="Microsoft.Dynamics.CRM.invoicedetail", table="sales_invoicedetails",
    change_tracking=True,  # ChangeTrackingEnabled: the P2C flows read it incrementally
    key=("invoicedetailid",),
    columns=(
        Column("invoicedetailid", "guid", nullable=False),
        lookup("invoiceid", "invoices"),
        *_LINE_COMMON,
        flag("msdynce_ismisctax"),
        Column("msdynce_invoicedate", "date"),
        text("msdynce_invoicenumber", 100),
    ),
)
