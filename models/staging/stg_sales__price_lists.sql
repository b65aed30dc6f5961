{{ config(description="Active Sales price lists with their currency, and the one each currency's products go on (p2c never creates price lists).") }}
-- The P2C rule [DOC D-PRD]: a product goes on the first active price list of its currency,
-- alphabetical by name (case-insensitive, then exact), as the P2C solution's plug-in does.
-- models/seeds/price_lists.csv may name the list for a currency instead (source_value = ISO
-- currency code, target_value = price list name); a name not found leaves the currency without one.
with lists as (
    select p.pricelevelid, p.name, c.isocurrencycode,
           o.target_value is null or o.target_value = p.name as eligible
    from {{ source('sales', 'pricelevels') }} as p
    join {{ ref('stg_sales__transactioncurrencies') }} as c on c.transactioncurrencyid = p._transactioncurrencyid_value
    left join seeds.price_lists as o on upper(trim(o.source_value)) = c.isocurrencycode
    where not p._p2c_deleted
      and p.statecode = 0
)
select
    pricelevelid, name, isocurrencycode,
    eligible and row_number() over (
        partition by isocurrencycode order by eligible desc, lower(name), name, pricelevelid) = 1 as is_products_price_list
from lists
