{{ config(
    flow="orders",
    description="Sales orders confirmed in F&O: status, fulfilment, addresses and amounts from F&O (spec/p2c-mappings.md 6b; decisions.md 5, 6, 10).",
    target={"system": "sales", "entity": "salesorders", "key": ["ordernumber"], "id": "salesorderid", "create": false},
    checks=[
        {"not_null": ["salesorderid", "msdynce_processingstatus"]},
        {"unique": ["salesorderid"]},
        {"accepted_values": {"column": "_p2c_owner", "values": ["fno"]}},
        {"accepted_values": {"column": "statecode", "values": [0, 4]}},
        {"relationships": {"column": "salesorderid", "to": "stg_sales__salesorders", "field": "salesorderid"}},
    ],
) }}
-- The order came from Sales and F&O owns it since its first insert (decisions.md 6). Once F&O confirms it,
-- only the fields the P2C F&O -> Sales template writes flow back; the activated order in Sales accepts no
-- others. Its name, customer, currency and price list stay as Sales had them, and
-- msdynce_ismaintainedexternally stays false.
select
    v.ordernumber, v.salesorderid,
    v.msdynce_processingstatus, v.statecode, v.statuscode,
    v.shipto_line1, v.shipto_line2, v.shipto_city, v.shipto_stateorprovince, v.shipto_postalcode, v.shipto_country,
    v.billto_line1, v.billto_line2, v.billto_city, v.billto_stateorprovince, v.billto_postalcode, v.billto_country,
    v.requestdeliveryby, v.freightamount, v.totaldiscountamount, v.totaltax, v.totalamount, v.msdynce_misctax,
    'fno'                                                                    as _p2c_owner
from {{ ref('stg_fno__salesorder_values') }} as v
where v.origin = 'sales'
