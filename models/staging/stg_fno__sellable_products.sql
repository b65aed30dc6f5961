{{ config(description="The company's F&O sellable released products (every row: the entity already filters sellable ones; decisions.md 2), one per product number. Each variant is its own row.") }}
-- Filter: var products_include_sales_stopped in models/project.toml (true = also products whose sales are stopped).
select *
from {{ source('fno', 'SellableReleasedProducts') }}
where not _p2c_deleted
  and dataAreaId = {{ var('fno_company') }}
  and coalesce(trim(ProductNumber), '') <> ''
  and ({{ var('products_include_sales_stopped') }} or IsSalesStopped <> 'Yes')
