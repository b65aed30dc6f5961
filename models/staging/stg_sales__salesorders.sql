{{ config(description="Sales orders, one per order number: who owns each (owner) and the reason an order does not go to F&O (excluded_because NULL: it does).") }}
-- Source filter (spec/p2c-mappings.md 6a; decisions.md 6): an order goes Sales -> F&O once it is activated
-- (processing status past Draft) with only products maintained in F&O, and only until it is in F&O:
-- from its first insert F&O owns it. Orders entered in F&O (msdynce_ismaintainedexternally) never go back.
with orders as (
    select *
    from {{ source('sales', 'salesorders') }}
    where not _p2c_deleted and coalesce(trim(ordernumber), '') <> ''
    qualify row_number() over (partition by ordernumber order by modifiedon desc, salesorderid) = 1
),
lines as (
    select l._salesorderid_value as salesorderid,
           count(*) as line_count,
           count(*) filter (where coalesce(l.isproductoverridden, false) or l._productid_value is null
                                  or not coalesce(p.is_maintained_externally, false)) as lines_not_from_fno
    from {{ source('sales', 'salesorderdetails') }} as l
    left join {{ ref('stg_sales__document_products') }} as p on p.productid = l._productid_value
    where not l._p2c_deleted and not coalesce(l.msdynce_ismisctax, false)
    group by l._salesorderid_value
),
in_fno as (
    select SalesOrderNumber, SalesOrderProcessingStatus
    from {{ source('fno', 'CDSSalesOrderHeaders') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
)
select o.salesorderid, o.ordernumber, o.name, o._customerid_value, c.customer_number, o._transactioncurrencyid_value,
       o._ownerid_value, o.shipto_line1, o.shipto_line2, o.shipto_city, o.shipto_stateorprovince, o.shipto_postalcode,
       o.shipto_country, o.requestdeliveryby, o.msdynce_processingstatus, o.msdynce_hasexternallymaintainedproductsonly,
       coalesce(o.msdynce_ismaintainedexternally, false) as msdynce_ismaintainedexternally,
       coalesce(l.line_count, 0) as line_count,
       f.SalesOrderProcessingStatus as fno_processing_status,
       case when coalesce(o.msdynce_ismaintainedexternally, false) or f.SalesOrderNumber is not null then 'fno' else 'sales' end
           as owner,
       case
           when coalesce(o.msdynce_ismaintainedexternally, false) then 'entered in F&O: it flows F&O -> Sales only'
           when {{ var('sales_orders_external_products_only') }}
                and (not coalesce(o.msdynce_hasexternallymaintainedproductsonly, false) or coalesce(l.lines_not_from_fno, 0) > 0)
               then 'has a write-in product or a product not maintained in F&O'
           when o.msdynce_processingstatus = {{ var('sales_orders_draft_processingstatus') }}
               then 'not activated (processing status Draft)'
           when f.SalesOrderNumber is not null
               then 'already in F&O, which owns it from its first insert (decisions.md 6)'
           when c.customer_number is null then 'its customer has no account or contact number in Sales'
           when fc.customer_number is null
               then 'its customer ' || c.customer_number || ' is not an F&O customer (nor becomes one in this run)'
       end as excluded_because
from orders as o
left join lines as l on l.salesorderid = o.salesorderid
left join in_fno as f on lower(f.SalesOrderNumber) = lower(o.ordernumber)
left join {{ ref('stg_sales__document_customers') }} as c on c.customerid = o._customerid_value
left join {{ ref('stg_fno__document_customers') }} as fc on lower(fc.customer_number) = lower(c.customer_number)
