{{ config(description="Sales order lines, one per order and sequence number, with product number, F&O unit and the reason a line does not go to F&O.") }}
-- The "Freight Tax" write-in line (msdynce_ismisctax) stands for F&O's header tax: it never goes back to F&O
-- (spec/p2c-mappings.md 6.2).
select o.ordernumber, l.salesorderdetailid, l._salesorderid_value, l.sequencenumber, p.productnumber, u.fno_unit_symbol,
       l.quantity, l.manualdiscountamount, l.requestdeliveryby, coalesce(l.msdynce_ismisctax, false) as msdynce_ismisctax,
       case
           when coalesce(l.msdynce_ismisctax, false) then 'the Freight Tax line: never sent to F&O'
           when o.excluded_because is not null then o.excluded_because
           when coalesce(l.isproductoverridden, false) or p.productnumber is null then 'a write-in product'
           when u.fno_unit_symbol is null then 'its unit is not a Sales unit'
       end as excluded_because
from {{ source('sales', 'salesorderdetails') }} as l
join {{ ref('stg_sales__salesorders') }} as o on o.salesorderid = l._salesorderid_value
left join {{ ref('stg_sales__document_products') }} as p on p.productid = l._productid_value
left join {{ ref('stg_sales__document_units') }} as u on u.uomid = l._uomid_value
where not l._p2c_deleted
qualify row_number() over (partition by l._salesorderid_value, coalesce(l.msdynce_ismisctax, false), l.sequencenumber
                           order by l.modifiedon desc, l.salesorderdetailid) = 1
