{{ config(
    flow="quotes",
    description="Activated Sales quotes with only F&O products as F&O sales quotations (spec/p2c-mappings.md 5).",
    target={"system": "fno", "entity": "CDSSalesQuotationHeaders", "key": ["dataAreaId", "SalesQuotationNumber"]},
    checks=[
        {"not_null": ["RequestingCustomerAccountNumber", "CurrencyCode"]},
        {"relationships": {"column": "RequestingCustomerAccountNumber", "to": "stg_sales__document_customers",
                           "field": "customer_number"}},
    ],
) }}
-- The quote keeps its Sales number in F&O (decisions.md 3). Prices, discounts, charges and tax of the header
-- are F&O's (spec 5, decisions.md 8); quotes are not closed after they sync (decisions.md 11).
-- F&O keeps blanks as '' and 1900-01-01, never null, so fields are coalesced to what F&O stores.
select
    {{ var('fno_company') }}                                            as dataAreaId,
    q.quotenumber                                                       as SalesQuotationNumber,
    q.customer_number                                                   as RequestingCustomerAccountNumber,
    q.customer_number                                                   as InvoiceCustomerAccountNumber,
    c.isocurrencycode                                                   as CurrencyCode,
    coalesce(q.name, '')                                                as SalesQuotationName,
    coalesce(q.shipto_line1, '')                                        as DeliveryAddressStreet,
    coalesce(q.shipto_line2, '')                                        as DeliveryAddressStreetNumber,
    coalesce(q.shipto_city, '')                                         as DeliveryAddressCity,
    coalesce(q.shipto_stateorprovince, '')                              as DeliveryAddressStateId,
    coalesce(q.shipto_postalcode, '')                                   as DeliveryAddressZipCode,
    {{ value_map('country', 'q.shipto_country', default='US') }}        as DeliveryAddressCountryRegionISOCode,
    coalesce(cast(q.requestdeliveryby as timestamp), timestamp '1900-01-01') as RequestedShippingDate,
    coalesce(cast(q.effectiveto as timestamp), timestamp '1900-01-01')  as SalesQuotationExpiryDate
from {{ ref('stg_sales__quotes') }} as q
left join {{ ref('stg_sales__transactioncurrencies') }} as c on c.transactioncurrencyid = q._transactioncurrencyid_value
where q.excluded_because is null
