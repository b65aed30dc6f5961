{{ config(
    flow="orders",
    description="Activated Sales orders not yet in F&O as F&O sales orders (spec/p2c-mappings.md 6a; decisions.md 6).",
    target={"system": "fno", "entity": "CDSSalesOrderHeaders", "key": ["dataAreaId", "SalesOrderNumber"]},
    checks=[
        {"not_null": ["OrderingCustomerAccountNumber", "CurrencyCode"]},
        {"accepted_values": {"column": "_p2c_owner", "values": ["sales"]}},
        {"relationships": {"column": "OrderingCustomerAccountNumber", "to": "stg_sales__document_customers",
                           "field": "customer_number"}},
    ],
) }}
-- Sales owns an order until its first insert into F&O; from then on F&O owns it and only F&O -> Sales updates
-- flow (decisions.md 6), so an order already in F&O is not here (stg_sales__salesorders.excluded_because says so).
-- The order keeps its Sales number (decisions.md 3). No prices (decisions.md 8).
select
    {{ var('fno_company') }}                                            as dataAreaId,
    o.ordernumber                                                       as SalesOrderNumber,
    o.customer_number                                                   as OrderingCustomerAccountNumber,
    o.customer_number                                                   as InvoiceCustomerAccountNumber,
    c.isocurrencycode                                                   as CurrencyCode,
    coalesce(o.name, '')                                                as SalesOrderName,
    coalesce(o.shipto_line1, '')                                        as DeliveryAddressStreet,
    coalesce(o.shipto_line2, '')                                        as DeliveryAddressStreetNumber,
    coalesce(o.shipto_city, '')                                         as DeliveryAddressCity,
    coalesce(o.shipto_stateorprovince, '')                              as DeliveryAddressStateId,
    coalesce(o.shipto_postalcode, '')                                   as DeliveryAddressZipCode,
    {{ value_map('country', 'o.shipto_country', default='US') }}        as DeliveryAddressCountryRegionISOCode,
    coalesce(cast(o.requestdeliveryby as timestamp), timestamp '1900-01-01') as RequestedShippingDate,
    o.owner                                                             as _p2c_owner
from {{ ref('stg_sales__salesorders') }} as o
left join {{ ref('stg_sales__transactioncurrencies') }} as c on c.transactioncurrencyid = o._transactioncurrencyid_value
where o.excluded_because is null
