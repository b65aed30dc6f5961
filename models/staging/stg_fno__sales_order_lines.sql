{{ config(description="F&O sales order lines of the company with their Sales order, product, unit and existing Sales line, and the reason a line does not come to Sales.") }}
-- A product F&O sells but Sales does not have yet gets the id the products flow creates it with
-- (deterministic_id('products', ProductNumber), decisions.md 12). Units: seed units (F&O symbol -> Sales
-- unit name; unmapped: the symbol itself, decisions.md 13).
with products as (
    select productid, productnumber
    from {{ source('sales', 'products') }}
    where not _p2c_deleted
    qualify row_number() over (partition by productnumber order by modifiedon desc, productid) = 1
),
sellable as (
    select ProductNumber
    from {{ source('fno', 'SellableReleasedProducts') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
),
units as (
    select uomid, name
    from {{ source('sales', 'uoms') }}
    where not _p2c_deleted
    qualify row_number() over (partition by lower(name) order by uomid) = 1
),
existing as (
    select salesorderdetailid, _salesorderid_value, sequencenumber
    from {{ source('sales', 'salesorderdetails') }}
    where not _p2c_deleted and not coalesce(msdynce_ismisctax, false)
    qualify row_number() over (partition by _salesorderid_value, sequencenumber order by modifiedon desc, salesorderdetailid) = 1
)
select l.*, o.salesorderid, o.origin,
       coalesce(e.salesorderdetailid,
                {{ deterministic_id('salesorderdetails', 'l.SalesOrderNumber', 'l.LineCreationSequenceNumber') }}) as salesorderdetailid,
       coalesce(p.productid, case when s.ProductNumber is not null then {{ deterministic_id('products', 'l.ProductNumber') }} end)
           as productid,
       u.uomid,
       case
           when o.excluded_because is not null then o.excluded_because
           when p.productid is null and s.ProductNumber is null
               then 'product ' || l.ProductNumber || ' is neither in Sales nor sellable in F&O'
           when u.uomid is null then 'unit ' || l.SalesUnitSymbol || ' is not a Sales unit (seed units)'
       end as excluded_because
from {{ source('fno', 'CDSSalesOrderLines') }} as l
join {{ ref('stg_fno__sales_orders') }} as o on lower(o.SalesOrderNumber) = lower(l.SalesOrderNumber)
left join products as p on lower(p.productnumber) = lower(l.ProductNumber)
left join sellable as s on lower(s.ProductNumber) = lower(l.ProductNumber)
left join seeds.units as m on lower(trim(m.source_value)) = lower(trim(l.SalesUnitSymbol))
left join units as u on lower(u.name) = lower(coalesce(m.target_value, l.SalesUnitSymbol))
left join existing as e on e._salesorderid_value = o.salesorderid and e.sequencenumber = l.LineCreationSequenceNumber
where not l._p2c_deleted and lower(l.dataAreaId) = lower({{ var('fno_company') }})
