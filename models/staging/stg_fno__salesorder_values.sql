{{ config(description="F&O orders that come to Sales, as Sales salesorders values (spec/p2c-mappings.md 6b; decisions.md 5, 6, 10); the two salesorders flow models take their columns from here.") }}
-- Processing status: seed fno_processing_status (decisions.md 5). State: Active (the template default, so
-- updates keep flowing) unless seed fno_order_state says otherwise: a fully invoiced order is Invoiced
-- (statecode 4, status reason 100003), a partial invoice changes only the processing status (decisions.md 10).
-- The header tax goes to msdynce_misctax; the P2C solution keeps it as one "Freight Tax" line (spec 6.2).
-- Sales keeps blanks as null, so F&O's '' and 1900-01-01 become null.
select
    o.SalesOrderNumber                                                       as ordernumber,
    o.salesorderid,
    o.origin,
    o.customerid                                                             as _customerid_value,
    o.customer_entity                                                        as _p2c_customer_entity,
    o.transactioncurrencyid                                                  as _transactioncurrencyid_value,
    p.pricelevelid                                                           as _pricelevelid_value,
    coalesce(nullif(o.SalesOrderName, ''), o.SalesOrderNumber)               as name,
    cast({{ value_map('fno_processing_status', 'o.SalesOrderProcessingStatus') }} as integer) as msdynce_processingstatus,
    cast({{ value_map('fno_order_state', 'o.SalesOrderProcessingStatus', default='0') }} as integer) as statecode,
    case when cast({{ value_map('fno_order_state', 'o.SalesOrderProcessingStatus', default='0') }} as integer) = 4
         then 100003 else 1 end                                              as statuscode,
    nullif(o.DeliveryAddressStreet, '')                                      as shipto_line1,
    nullif(o.DeliveryAddressStreetNumber, '')                                as shipto_line2,
    nullif(o.DeliveryAddressCity, '')                                        as shipto_city,
    nullif(o.DeliveryAddressStateId, '')                                     as shipto_stateorprovince,
    nullif(o.DeliveryAddressZipCode, '')                                     as shipto_postalcode,
    {{ value_map('country_names', "nullif(o.DeliveryAddressCountryRegionISOCode, '')") }} as shipto_country,
    nullif(o.InvoiceAddressStreet, '')                                       as billto_line1,
    nullif(o.InvoiceAddressStreetNumber, '')                                 as billto_line2,
    nullif(o.InvoiceAddressCity, '')                                         as billto_city,
    nullif(o.InvoiceAddressStateId, '')                                      as billto_stateorprovince,
    nullif(o.InvoiceAddressZipCode, '')                                      as billto_postalcode,
    {{ value_map('country_names', "nullif(o.InvoiceAddressCountryRegionISOCode, '')") }} as billto_country,
    case when o.RequestedShippingDate > timestamp '1900-01-01'
         then strftime(o.RequestedShippingDate, '%Y-%m-%d') end              as requestdeliveryby,
    cast(o.OrderTotalChargesAmount as decimal(19, 4))                        as freightamount,
    cast(o.TotalDiscountAmount as decimal(19, 4))                            as totaldiscountamount,
    cast(o.OrderTotalTaxAmount as decimal(19, 4))                            as totaltax,
    cast(o.OrderTotalAmount as decimal(19, 4))                               as totalamount,
    cast(nullif(o.OrderHeaderTaxAmount, 0) as decimal(19, 4))                as msdynce_misctax,
    o.origin = 'fno'                                                         as msdynce_ismaintainedexternally
from {{ ref('stg_fno__sales_orders') }} as o
left join (
    select pricelevelid, name
    from {{ source('sales', 'pricelevels') }}
    where not _p2c_deleted and statecode = 0
    qualify row_number() over (partition by lower(name) order by pricelevelid) = 1
) as p on lower(p.name) = lower({{ value_map('document_price_lists', 'o.CurrencyCode') }})
where o.excluded_because is null
