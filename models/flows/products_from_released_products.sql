{{ config(
    flow="products",
    description="F&O sellable released products as Sales products, each variant its own product (spec/p2c-mappings.md 4).",
    target={
        "system": "sales",
        "entity": "products",
        "key": ["productnumber"],
        "id": "productid",
        "binds": {
            "_defaultuomid_value": {"property": "defaultuomid", "entity": "uoms"},
            "_defaultuomscheduleid_value": {"property": "defaultuomscheduleid", "entity": "uomschedules"},
            "_transactioncurrencyid_value": {"property": "transactioncurrencyid", "entity": "transactioncurrencies"},
        },
    },
    checks=[
        {"not_null": ["productid", "name", "_defaultuomid_value", "_defaultuomscheduleid_value", "_transactioncurrencyid_value"]},
        {"unique": ["productid"]},
        {"accepted_values": {"column": "producttypecode", "values": [1, 3]}},
    ],
) }}
-- Units: the Sales unit is named like the F&O sales unit symbol unless models/seeds/units.csv maps
-- the symbol (decisions.md 13); models/seeds/unit_groups.csv names the unit group of each Sales unit
-- (default "Default unit"): a unit missing there fails its value-map coverage check, and a unit the
-- Sales group does not hold leaves _defaultuomid_value null (not_null check). p2c never creates units.
-- Currency: the Sales currency with the product's ISO code (not_null check when missing).
-- The product's own default price list (pricelevelid) is optional in P2C and not set; the price
-- list item is price_list_items_from_released_products.
select
    coalesce(s.productid, {{ deterministic_id('products', 'p.ProductNumber') }})  as productid,
    p.ProductNumber                                                 as productnumber,
    nullif(p.ProductName, '')                                       as name,
    nullif(p.ProductDescription, '')                                as description,
    cast({{ value_map('product_types', 'p.ProductType') }} as integer) as producttypecode,
    u.uomid                                                         as _defaultuomid_value,
    g.uomscheduleid                                                 as _defaultuomscheduleid_value,
    cur.transactioncurrencyid                                       as _transactioncurrencyid_value,
    p.SalesPrice                                                    as price,
    p.UnitCost                                                      as currentcost,
    coalesce(p.SalesUnitDecimalPrecision, 0)                        as quantitydecimal,
    true                                                            as msdynce_ismaintainedexternally
from (
    -- the Sales unit name, then its unit group (a derived table, so the coverage check can re-run it)
    select n.*, {{ value_map('unit_groups', 'n.unit_name') }} as unit_group
    from (
        select f.*, coalesce(nullif(trim(um.target_value), ''), f.SalesUnitSymbol) as unit_name
        from {{ ref('stg_fno__sellable_products') }} as f
        left join seeds.units as um on lower(trim(um.source_value)) = lower(trim(f.SalesUnitSymbol))
    ) as n
) as p
left join {{ ref('stg_sales__products') }} as s on s.productnumber = p.ProductNumber
left join (select distinct uomscheduleid, unit_group from {{ ref('stg_sales__units') }}) as g
    on g.unit_group = p.unit_group
left join {{ ref('stg_sales__units') }} as u on u.name = p.unit_name and u.unit_group = p.unit_group
left join {{ ref('stg_sales__transactioncurrencies') }} as cur on cur.isocurrencycode = upper(trim(p.CurrencyCode))
