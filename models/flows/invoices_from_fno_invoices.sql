{{ config(
    flow="invoices",
    description="F&O invoices of externally maintained customers as Sales invoices (spec/p2c-mappings.md 7; decisions.md 2, 9, 10).",
    target={"system": "sales", "entity": "invoices", "key": ["invoicenumber"], "id": "invoiceid",
            "binds": {
                "_customerid_value": {"property": "customerid_account", "entity": "accounts",
                                      "entity_column": "_p2c_customer_entity",
                                      "properties": {"accounts": "customerid_account", "contacts": "customerid_contact"}},
                "_salesorderid_value": {"property": "salesorderid", "entity": "salesorders"},
                "_transactioncurrencyid_value": {"property": "transactioncurrencyid", "entity": "transactioncurrencies"},
                "_pricelevelid_value": {"property": "pricelevelid", "entity": "pricelevels"},
            },
            "create": true},
    checks=[
        {"not_null": ["invoiceid", "_customerid_value", "_transactioncurrencyid_value", "_pricelevelid_value"]},
        {"unique": ["invoiceid"]},
        {"relationships": {"column": "_salesorderid_value", "to": "stg_fno__sales_orders", "field": "salesorderid"}},
    ],
) }}
-- The invoice keeps its F&O number. The P2C solution, on invoice create, gives the invoice its order's owner
-- and marks the order Partially Invoiced or Invoiced (spec 7, decisions.md 10, 15); salesorders_*_from_fno_orders
-- send the same status from F&O, so both agree. Header tax is not synced unless
-- invoices_header_tax_to_misctax is true (decisions.md 9).
select
    i.InvoiceNumber                                                          as invoicenumber,
    i.invoiceid,
    strftime(i.InvoiceDate, '%Y-%m-%d')                                      as msdynce_invoicedate,
    i.salesorderid                                                           as _salesorderid_value,
    i.customerid                                                             as _customerid_value,
    i.transactioncurrencyid                                                  as _transactioncurrencyid_value,
    p.pricelevelid                                                           as _pricelevelid_value,
    nullif(i.InvoiceAddressStreet, '')                                       as billto_line1,
    nullif(i.InvoiceAddressStreetNumber, '')                                 as billto_line2,
    nullif(i.InvoiceAddressCity, '')                                         as billto_city,
    nullif(i.InvoiceAddressState, '')                                        as billto_stateorprovince,
    nullif(i.InvoiceAddressZipCode, '')                                      as billto_postalcode,
    {{ value_map('country_names', "nullif(i.InvoiceAddressCountryRegionISOCode, '')") }} as billto_country,
    cast(i.TotalChargeAmount as decimal(19, 4))                              as freightamount,
    cast(i.TotalDiscountAmount as decimal(19, 4))                            as totaldiscountamount,
    cast(i.TotalTaxAmount as decimal(19, 4))                                 as totaltax,
    cast(i.TotalInvoiceAmount as decimal(19, 4))                             as totalamount,
    nullif(i.CustomersOrderReference, '')                                    as description,
{%- if var('invoices_header_tax_to_misctax') == 'TRUE' %}
    cast(nullif(i.InvoiceHeaderTaxAmount, 0) as decimal(19, 4))              as msdynce_misctax,
{%- endif %}
    true                                                                     as msdynce_ismaintainedexternally,
    false                                                                    as ispricelocked,
    i.customer_entity                                                        as _p2c_customer_entity
from {{ ref('stg_fno__invoices') }} as i
left join (
    select pricelevelid, name
    from {{ source('sales', 'pricelevels') }}
    where not _p2c_deleted and statecode = 0
    qualify row_number() over (partition by lower(name) order by pricelevelid) = 1
) as p on lower(p.name) = lower({{ value_map('document_price_lists', 'i.CurrencyCode') }})
where i.excluded_because is null
