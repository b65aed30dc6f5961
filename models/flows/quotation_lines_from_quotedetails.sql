{{ config(
    flow="quotes",
    description="Lines of the quotes in quotation_headers_from_quotes as F&O quotation lines (spec/p2c-mappings.md 5, 6.1).",
    target={"system": "fno", "entity": "CDSSalesQuotationLines",
            "key": ["dataAreaId", "SalesQuotationNumber", "LineCreationSequenceNumber"],
            "parent": {"model": "quotation_headers_from_quotes",
                       "on": {"dataAreaId": "dataAreaId", "SalesQuotationNumber": "SalesQuotationNumber"}}},
    checks=[
        {"not_null": ["ProductNumber", "SalesUnitSymbol"]},
        {"relationships": {"column": "SalesQuotationNumber", "to": "quotation_headers_from_quotes",
                           "field": "SalesQuotationNumber"}},
    ],
) }}
-- sequencenumber <-> LineCreationSequenceNumber (decisions.md 3). No unit price: F&O prices the quotation
-- (decisions.md 8). The discount rule (spec 6.1, decisions.md 7): Sales holds the full line discount, F&O the
-- per-unit discount rounded to discount_decimals plus the remainder as a (negative) charge:
-- quantity 3 with discount 10.00 -> LineDiscountAmount 3.33, FixedPriceCharges -0.01.
with lines as (
    select l.*,
           case when coalesce(l.quantity, 0) = 0 then 0
                else round(cast(coalesce(l.manualdiscountamount, 0) as decimal(38, 10)) / l.quantity,
                           {{ var('discount_decimals') }})
           end as per_unit_discount
    from {{ ref('stg_sales__quotedetails') }} as l
    where l.excluded_because is null
)
select
    {{ var('fno_company') }}                                            as dataAreaId,
    l.quotenumber                                                       as SalesQuotationNumber,
    l.sequencenumber                                                    as LineCreationSequenceNumber,
    l.productnumber                                                     as ProductNumber,
    l.fno_unit_symbol                                                   as SalesUnitSymbol,
    coalesce(l.quantity, 0)                                             as RequestedSalesQuantity,
    cast(l.per_unit_discount as decimal(19, 4))                         as LineDiscountAmount,
    cast(case when coalesce(l.quantity, 0) = 0 then 0
              else l.quantity * l.per_unit_discount - coalesce(l.manualdiscountamount, 0) end as decimal(19, 4))
                                                                        as FixedPriceCharges,
    coalesce(cast(l.requestdeliveryby as timestamp), timestamp '1900-01-01') as RequestedShippingDate
from lines as l
