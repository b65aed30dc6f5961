{{ config(description="Sales products by product number (the products flow's natural key): the id an existing product already has.") }}
select productid, productnumber, msdynce_ismaintainedexternally
from {{ source('sales', 'products') }}
where not _p2c_deleted
  and coalesce(trim(productnumber), '') <> ''
qualify row_number() over (partition by productnumber order by modifiedon desc, productid) = 1
