{{ config(description="F&O sales orders of the company, with their Sales id and origin, and the reason an order does not come to Sales (excluded_because NULL: it does).") }}
-- Source filter (spec/p2c-mappings.md 6b): confirmed or later, sales totals calculated, ordering and invoice
-- customer both externally maintained; optionally not a Field Service work order. Each is a variable in
-- models/project.toml. An order keeps its number in Sales (decisions.md 3); one created there by p2c gets a
-- deterministic id (decisions.md 12). origin: 'sales' when it came from a Sales order, else 'fno'.
with headers as (
    select *
    from {{ source('fno', 'CDSSalesOrderHeaders') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
),
sales as (
    select salesorderid, ordernumber, _ownerid_value, coalesce(msdynce_ismaintainedexternally, false) as entered_in_fno
    from {{ source('sales', 'salesorders') }}
    where not _p2c_deleted and coalesce(trim(ordernumber), '') <> ''
    qualify row_number() over (partition by lower(ordernumber) order by modifiedon desc, salesorderid) = 1
),
customers as (
    select * from {{ ref('stg_sales__document_customers') }}
    qualify row_number() over (partition by lower(customer_number) order by customer_entity, customerid) = 1
)
select h.*,
       coalesce(s.salesorderid, {{ deterministic_id('salesorders', 'h.SalesOrderNumber') }}) as salesorderid,
       s.salesorderid is not null as in_sales,
       s._ownerid_value as sales_ownerid,
       case when s.salesorderid is not null and not s.entered_in_fno then 'sales' else 'fno' end as origin,
       c.customerid, c.customer_entity, cur.transactioncurrencyid,
       case
           when h.SalesOrderOriginType = {{ var('fno_orders_excluded_origin_type') }}
               then 'origin ' || h.SalesOrderOriginType || ' is excluded'
           when h.SalesOrderProcessingStatus = {{ var('fno_orders_unconfirmed_status') }}
               then 'not confirmed (processing status ' || h.SalesOrderProcessingStatus || ')'
           when {{ var('fno_orders_require_totals_calculated') }} and h.AreTotalsUpdated <> 'Yes'
               then 'sales totals not calculated since its last change'
           when h.OrderingCustomerIsExternallyMaintained <> 'Yes'
               then 'ordering customer ' || h.OrderingCustomerAccountNumber || ' is not externally maintained'
           when h.InvoiceCustomerIsExternallyMaintained <> 'Yes'
               then 'invoice customer ' || h.InvoiceCustomerAccountNumber || ' is not externally maintained'
           when c.customerid is null then 'ordering customer ' || h.OrderingCustomerAccountNumber || ' is not in Sales'
           when cur.transactioncurrencyid is null then 'currency ' || h.CurrencyCode || ' is not a Sales currency'
       end as excluded_because
from headers as h
left join sales as s on lower(s.ordernumber) = lower(h.SalesOrderNumber)
left join customers as c on lower(c.customer_number) = lower(h.OrderingCustomerAccountNumber)
left join {{ ref('stg_sales__transactioncurrencies') }} as cur on cur.isocurrencycode = upper(h.CurrencyCode)
