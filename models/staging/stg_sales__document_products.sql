{{ config(description="Sales products by id with their product number and whether F&O maintains them, for document lines.") }}
select productid, productnumber, coalesce(msdynce_ismaintainedexternally, false) as is_maintained_externally
from {{ source('sales', 'products') }}
where not _p2c_deleted
