{{ config(
    flow="invoices",
    description="Lines of the invoices in invoices_from_fno_invoices as Sales invoice lines (spec/p2c-mappings.md 7).",
    target={"system": "sales", "entity": "invoicedetails",
            "key": ["_invoiceid_value", "sequencenumber", "msdynce_ismisctax"], "id": "invoicedetailid",
            "binds": {
                "_invoiceid_value": {"property": "invoiceid", "entity": "invoices"},
                "_productid_value": {"property": "productid", "entity": "products"},
                "_uomid_value": {"property": "uomid", "entity": "uoms"},
            },
            "parent": {"model": "invoices_from_fno_invoices", "on": {"_invoiceid_value": "invoiceid"}},
            "create": true},
    checks=[
        {"not_null": ["invoicedetailid", "_productid_value", "_uomid_value"]},
        {"unique": ["invoicedetailid"]},
        {"relationships": {"column": "_invoiceid_value", "to": "invoices_from_fno_invoices", "field": "invoiceid"}},
    ],
) }}
-- Lines match on their invoice and sequencenumber = LineCreationSequenceNumber; a Freight Tax line (only with
-- invoices_header_tax_to_misctax) is the P2C solution's and is left alone, like on orders.
select
    l.invoicedetailid,
    l.invoiceid                                                              as _invoiceid_value,
    l.LineCreationSequenceNumber                                             as sequencenumber,
    false                                                                    as msdynce_ismisctax,
    l.InvoiceNumber                                                          as msdynce_invoicenumber,
    strftime(l.InvoiceDate, '%Y-%m-%d')                                      as msdynce_invoicedate,
    l.productid                                                              as _productid_value,
    false                                                                    as isproductoverridden,
    nullif(l.ProductName, '')                                                as description,
    cast(l.InvoicedQuantity as decimal(19, 4))                               as quantity,
    l.uomid                                                                  as _uomid_value,
    cast(l.SalesPrice as decimal(19, 4))                                     as priceperunit,
    true                                                                     as ispriceoverridden,
    cast(l.LineTotalDiscountAmount as decimal(19, 4))                        as manualdiscountamount,
    cast(l.LineTotalTaxAmount as decimal(19, 4))                             as tax,
    cast(l.LineAmount as decimal(19, 4))                                     as extendedamount,
    true                                                                     as msdynce_ismaintainedexternally
from {{ ref('stg_fno__invoice_lines') }} as l
where l.excluded_because is null
