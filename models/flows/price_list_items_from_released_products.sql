{{ config(
    flow="products",
    description="Each synced product's item on the first price list of its currency, at the F&O sales price (spec/p2c-mappings.md 4).",
    target={
        "system": "sales",
        "entity": "productpricelevels",
        "key": ["_pricelevelid_value", "_productid_value"],
        "id": "productpricelevelid",
        "binds": {
            "_pricelevelid_value": {"property": "pricelevelid", "entity": "pricelevels"},
            "_productid_value": {"property": "productid", "entity": "products"},
            "_uomid_value": {"property": "uomid", "entity": "uoms"},
            "_uomscheduleid_value": {"property": "uomscheduleid", "entity": "uomschedules"},
            "_transactioncurrencyid_value": {"property": "transactioncurrencyid", "entity": "transactioncurrencies"},
        },
        "parent": {"model": "products_from_released_products", "on": {"_productid_value": "productid"}},
        "create": false,
    },
    checks=[
        {"not_null": ["productpricelevelid", "_uomid_value", "_transactioncurrencyid_value"]},
        {"unique": ["_productid_value"]},
        {"relationships": {"column": "_productid_value", "to": "products_from_released_products", "field": "productid"}},
        {"relationships": {"column": "_pricelevelid_value", "to": "stg_sales__price_lists", "field": "pricelevelid"}},
    ],
) }}
-- The price list: stg_sales__price_lists (first active list of the product's currency, alphabetical,
-- or the one models/seeds/price_lists.csv names). A currency without a price list leaves
-- _pricelevelid_value null, and the key's not-null check stops the flow, as P2C's sync fails [DOC].
-- "create": false — the P2C solution's plug-in (PostOperationProductCreate/Update, decisions.md 15)
-- adds the item itself when the product is written; p2c keeps existing items right (amount, unit).
-- A site without the solution sets "create": true so p2c adds them.
select
    coalesce(i.productpricelevelid,
             {{ deterministic_id('productpricelevels', 'l.name', 'p.productnumber') }})  as productpricelevelid,
    l.pricelevelid                                                  as _pricelevelid_value,
    p.productid                                                     as _productid_value,
    p._defaultuomid_value                                           as _uomid_value,
    p._defaultuomscheduleid_value                                   as _uomscheduleid_value,
    p._transactioncurrencyid_value                                  as _transactioncurrencyid_value,
    p.price                                                         as amount
from {{ ref('products_from_released_products') }} as p
left join {{ ref('stg_sales__transactioncurrencies') }} as cur on cur.transactioncurrencyid = p._transactioncurrencyid_value
left join {{ ref('stg_sales__price_lists') }} as l
    on l.isocurrencycode = cur.isocurrencycode and l.is_products_price_list
left join (
    select productpricelevelid, _pricelevelid_value, _productid_value
    from {{ source('sales', 'productpricelevels') }}
    where not _p2c_deleted
) as i on i._pricelevelid_value = l.pricelevelid and i._productid_value = p.productid
