{{ config(
    flow="orders",
    description="Lines of the F&O orders that come to Sales as Sales order lines (spec/p2c-mappings.md 6b, 6.1).",
    target={"system": "sales", "entity": "salesorderdetails",
            "key": ["_salesorderid_value", "sequencenumber", "msdynce_ismisctax"], "id": "salesorderdetailid",
            "binds": {
                "_salesorderid_value": {"property": "salesorderid", "entity": "salesorders"},
                "_productid_value": {"property": "productid", "entity": "products"},
                "_uomid_value": {"property": "uomid", "entity": "uoms"},
            },
            "always_send": ["msdynce_ismaintainedexternally"],
            "parent": {"model": "salesorders_from_fno_orders", "on": {"_salesorderid_value": "salesorderid"}},
            "create": true},
    checks=[
        {"not_null": ["salesorderdetailid", "_productid_value", "_uomid_value"]},
        {"unique": ["salesorderdetailid"]},
        {"relationships": {"column": "_salesorderid_value", "to": "stg_fno__salesorder_values", "field": "salesorderid"}},
    ],
) }}
-- Lines match on their order and sequencenumber = LineCreationSequenceNumber (decisions.md 3); the P2C
-- solution's "Freight Tax" line shares the sequence numbers, so msdynce_ismisctax is part of the key and this
-- model never touches that line (spec 6.2). Every line the integration writes carries
-- msdynce_ismaintainedexternally = true: an activated order takes no other line writes (error 0x80040265).
-- Discount back (spec 6.1): quantity x per-unit discount - charge: 3 x 3.33 - (-0.01) = 10.00.
-- Prices come from F&O (decisions.md 8), marked as overridden so Sales does not reprice them.
select
    l.salesorderdetailid,
    l.salesorderid                                                           as _salesorderid_value,
    l.LineCreationSequenceNumber                                             as sequencenumber,
    false                                                                    as msdynce_ismisctax,
    l.productid                                                              as _productid_value,
    false                                                                    as isproductoverridden,
    cast(l.OrderedSalesQuantity as decimal(19, 4))                           as quantity,
    l.uomid                                                                  as _uomid_value,
    cast(l.SalesPrice as decimal(19, 4))                                     as priceperunit,
    true                                                                     as ispriceoverridden,
    cast(l.OrderedSalesQuantity * l.LineDiscountAmount - l.FixedPriceCharges as decimal(19, 4)) as manualdiscountamount,
    cast(l.TotalTaxAmount as decimal(19, 4))                                 as tax,
    nullif(l.ProductName, '')                                                as description,
    true                                                                     as msdynce_ismaintainedexternally,
    'fno'                                                                    as _p2c_owner
from {{ ref('stg_fno__sales_order_lines') }} as l
where l.excluded_because is null
