{{ config(description="Sales quotes, one per quote number, with the reason a quote does not go to F&O (excluded_because NULL: it does).") }}
-- Source filter (spec/p2c-mappings.md 5): the quote is activated and all its products are maintained
-- in F&O (no write-in lines). Both conditions are variables in models/project.toml.
with quotes as (
    select *
    from {{ source('sales', 'quotes') }}
    where not _p2c_deleted and coalesce(trim(quotenumber), '') <> ''
    qualify row_number() over (partition by quotenumber order by modifiedon desc, quoteid) = 1
),
lines as (
    select l._quoteid_value as quoteid,
           count(*) as line_count,
           count(*) filter (where coalesce(l.isproductoverridden, false) or l._productid_value is null
                                  or not coalesce(p.is_maintained_externally, false)) as lines_not_from_fno
    from {{ source('sales', 'quotedetails') }} as l
    left join {{ ref('stg_sales__document_products') }} as p on p.productid = l._productid_value
    where not l._p2c_deleted
    group by l._quoteid_value
)
select q.quoteid, q.quotenumber, q.name, q._customerid_value, c.customer_number, q._transactioncurrencyid_value,
       q.shipto_line1, q.shipto_line2, q.shipto_city, q.shipto_stateorprovince, q.shipto_postalcode, q.shipto_country,
       q.requestdeliveryby, q.effectiveto, q.statecode, q.statuscode, q.msdynce_hasexternallymaintainedproductsonly,
       coalesce(l.line_count, 0) as line_count,
       case
           when {{ var('quotes_external_products_only') }}
                and (not coalesce(q.msdynce_hasexternallymaintainedproductsonly, false) or coalesce(l.lines_not_from_fno, 0) > 0)
               then 'has a write-in product or a product not maintained in F&O'
           when q.statecode <> {{ var('quotes_activated_statecode') }}
               then 'not activated (statecode ' || cast(q.statecode as varchar) || ')'
           when c.customer_number is null then 'its customer has no account or contact number in Sales'
           when fc.customer_number is null
               then 'its customer ' || c.customer_number || ' is not an F&O customer (nor becomes one in this run)'
       end as excluded_because
from quotes as q
left join lines as l on l.quoteid = q.quoteid
left join {{ ref('stg_sales__document_customers') }} as c on c.customerid = q._customerid_value
left join {{ ref('stg_fno__document_customers') }} as fc on lower(fc.customer_number) = lower(c.customer_number)
