{{ config(
    flow="orders",
    description="Confirmed F&O orders entered in F&O as Sales orders, created with deterministic ids (spec/p2c-mappings.md 6b; decisions.md 6, 12).",
    target={"system": "sales", "entity": "salesorders", "key": ["ordernumber"], "id": "salesorderid",
            "binds": {
                "_customerid_value": {"property": "customerid_account", "entity": "accounts",
                                      "entity_column": "_p2c_customer_entity",
                                      "properties": {"accounts": "customerid_account", "contacts": "customerid_contact"}},
                "_transactioncurrencyid_value": {"property": "transactioncurrencyid", "entity": "transactioncurrencies"},
                "_pricelevelid_value": {"property": "pricelevelid", "entity": "pricelevels"},
            },
            "create": true},
    checks=[
        {"not_null": ["salesorderid", "_customerid_value", "_transactioncurrencyid_value", "_pricelevelid_value",
                      "msdynce_processingstatus"]},
        {"unique": ["salesorderid"]},
        {"accepted_values": {"column": "_p2c_owner", "values": ["fno"]}},
        {"accepted_values": {"column": "statecode", "values": [0, 4]}},
    ],
) }}
-- An order entered in F&O is created in Sales with msdynce_ismaintainedexternally = true (decisions.md 6)
-- and owned by F&O for good. Orders that came from Sales are updated by salesorders_status_from_fno_orders.
select
    v.ordernumber, v.salesorderid, v._customerid_value, v._transactioncurrencyid_value, v._pricelevelid_value, v.name,
    v.msdynce_processingstatus, v.statecode, v.statuscode,
    v.shipto_line1, v.shipto_line2, v.shipto_city, v.shipto_stateorprovince, v.shipto_postalcode, v.shipto_country,
    v.billto_line1, v.billto_line2, v.billto_city, v.billto_stateorprovince, v.billto_postalcode, v.billto_country,
    v.requestdeliveryby, v.freightamount, v.totaldiscountamount, v.totaltax, v.totalamount, v.msdynce_misctax,
    v.msdynce_ismaintainedexternally,
    v._p2c_customer_entity,
    'fno'                                                                    as _p2c_owner
from {{ ref('stg_fno__salesorder_values') }} as v
where v.origin = 'fno'
