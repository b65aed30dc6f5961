{{ config(
    flow="orders",
    description="Lines of the orders in order_headers_from_salesorders as F&O order lines (spec/p2c-mappings.md 6a, 6.1).",
    target={"system": "fno", "entity": "CDSSalesOrderLines",
            "key": ["dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber"],
            "parent": {"model": "order_headers_from_salesorders",
                       "on": {"dataAreaId": "dataAreaId", "SalesOrderNumber": "SalesOrderNumber"}}},
    checks=[
        {"not_null": ["ProductNumber", "SalesUnitSymbol"]},
        {"relationships": {"column": "SalesOrderNumber", "to": "order_headers_from_salesorders", "field": "SalesOrderNumber"}},
    ],
) }}
-- sequencenumber <-> LineCreationSequenceNumber (decisions.md 3). No unit price (decisions.md 8). The
-- Freight Tax line never goes to F&O (spec 6.2). Discount rule (spec 6.1, decisions.md 7): quantity 3 with
-- discount 10.00 -> LineDiscountAmount 3.33 per unit, FixedPriceCharges -0.01 (back in Sales: 10.00).
with lines as (
    select l.*,
           case when coalesce(l.quantity, 0) = 0 then 0
                else round(cast(coalesce(l.manualdiscountamount, 0) as decimal(38, 10)) / l.quantity,
                           {{ var('discount_decimals') }})
           end as per_unit_discount
    from {{ ref('stg_sales__salesorderdetails') }} as l
    where l.excluded_because is null
)
select
    {{ var('fno_company') }}                                            as dataAreaId,
    l.ordernumber                                                       as SalesOrderNumber,
    l.sequencenumber                                                    as LineCreationSequenceNumber,
    l.productnumber                                                     as ProductNumber,
    l.fno_unit_symbol                                                   as SalesUnitSymbol,
    coalesce(l.quantity, 0)                                             as OrderedSalesQuantity,
    cast(l.per_unit_discount as decimal(19, 4))                         as LineDiscountAmount,
    cast(case when coalesce(l.quantity, 0) = 0 then 0
              else l.quantity * l.per_unit_discount - coalesce(l.manualdiscountamount, 0) end as decimal(19, 4))
                                                                        as FixedPriceCharges,
    coalesce(cast(l.requestdeliveryby as timestamp), timestamp '1900-01-01') as RequestedShippingDate,
    'sales'                                                             as _p2c_owner
from lines as l
