{{ config(description="Sales quote lines, one per quote and sequence number, with product number, F&O unit and the reason a line does not go to F&O.") }}
select q.quotenumber, l.quotedetailid, l._quoteid_value, l.sequencenumber, p.productnumber, u.fno_unit_symbol,
       l.quantity, l.manualdiscountamount, l.requestdeliveryby,
       coalesce(q.excluded_because, case when u.fno_unit_symbol is null then 'its unit is not a Sales unit' end)
           as excluded_because
from {{ source('sales', 'quotedetails') }} as l
join {{ ref('stg_sales__quotes') }} as q on q.quoteid = l._quoteid_value
left join {{ ref('stg_sales__document_products') }} as p on p.productid = l._productid_value
left join {{ ref('stg_sales__document_units') }} as u on u.uomid = l._uomid_value
where not l._p2c_deleted
qualify row_number() over (partition by l._quoteid_value, l.sequencenumber order by l.modifiedon desc, l.quotedetailid) = 1
