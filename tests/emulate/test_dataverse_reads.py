"""Dataverse collection reads over HTTPS: $count, /$count, $expand, annotations, $skip (protocols.md 1.2, 5.1)."""

import pytest

from emulate.catalog import ACCOUNTS, SALES_ENTITY_SETS

FORMATTED = "OData.Community.Display.V1.FormattedValue"
LOOKUP_LOGICAL = "Microsoft.Dynamics.CRM.lookuplogicalname"
NAVIGATION = "Microsoft.Dynamics.CRM.associatednavigationproperty"


def _by_id(tenant, entity_set: str, key: str) -> dict:
    return {row[key]: row for row in tenant.sales.rows(entity_set)}


def test_count_true_adds_odata_count(sales, tenant):
    total = len(tenant.sales.rows("accounts"))
    body = sales.get("accounts", params={"$select": "name", "$count": "true"}, headers={"Prefer": "odata.maxpagesize=10"}).json()
    assert body["@odata.count"] == min(total, 5000)
    assert len(body["value"]) == 10
    filtered = sales.get("accounts", params={"$count": "true", "$filter": "statecode eq 1", "$select": "name"}).json()
    assert filtered["@odata.count"] == sum(1 for row in tenant.sales.rows("accounts") if row["statecode"] == 1)


def test_count_annotations_when_asked(sales):
    prefer = {"Prefer": 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'}
    counted = sales.get("accounts", params={"$select": "name", "$count": "true", "$top": "1"}, headers=prefer).json()
    assert counted["@Microsoft.Dynamics.CRM.totalrecordcount"] == counted["@odata.count"]
    assert counted["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    uncounted = sales.get("accounts", params={"$select": "name", "$top": "1"}, headers=prefer).json()
    assert uncounted["@Microsoft.Dynamics.CRM.totalrecordcount"] == -1
    assert "@odata.count" not in uncounted


def test_dollar_count_segment_is_plain_text(sales, tenant):
    response = sales.get("accounts/$count")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.text == str(min(len(tenant.sales.rows("accounts")), 5000))
    filtered = sales.get("accounts/$count", params={"$filter": "statecode eq 0"})
    assert int(filtered.text) == sum(1 for row in tenant.sales.rows("accounts") if row["statecode"] == 0)


def test_skip_is_rejected(sales):
    response = sales.get("accounts", params={"$skip": "10"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "0x80060888"


def test_expand_lookup_with_nested_select(sales, tenant):
    response = sales.get("accounts", params={"$select": "name", "$top": "5",
                                             "$expand": "transactioncurrencyid($select=isocurrencycode,currencysymbol)"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#accounts(name,transactioncurrencyid(isocurrencycode,currencysymbol))")
    accounts = _by_id(tenant, "accounts", "accountid")
    currencies = _by_id(tenant, "transactioncurrencies", "transactioncurrencyid")
    for row in body["value"]:
        currency_id = accounts[row["accountid"]]["_transactioncurrencyid_value"]
        expanded = row["transactioncurrencyid"]
        if currency_id is None:
            assert expanded is None
            continue
        assert expanded["transactioncurrencyid"] == currency_id
        assert expanded["isocurrencycode"] == currencies[currency_id]["isocurrencycode"]
        assert set(expanded) == {"@odata.etag", "isocurrencycode", "currencysymbol", "transactioncurrencyid"}


def test_expand_unknown_navigation_is_400(sales):
    response = sales.get("accounts", params={"$expand": "nosuchnavigation"})
    assert response.status_code == 400
    assert "nosuchnavigation" in response.json()["error"]["message"]


def test_all_annotations_with_formatted_values(sales, tenant):
    prefer = {"Prefer": 'odata.include-annotations="*",odata.maxpagesize=50'}
    response = sales.get("accounts", params={"$select": "name,customertypecode,createdon,_transactioncurrencyid_value,statecode"},
                         headers=prefer)
    assert response.status_code == 200
    applied = response.headers["Preference-Applied"]
    assert 'odata.include-annotations="*"' in applied and "odata.maxpagesize=50" in applied
    accounts = _by_id(tenant, "accounts", "accountid")
    currencies = _by_id(tenant, "transactioncurrencies", "transactioncurrencyid")
    options = dict(ACCOUNTS.column("customertypecode").options)
    for row in response.json()["value"]:
        stored = accounts[row["accountid"]]
        keys = list(row)
        if stored["customertypecode"] is not None:
            assert row[f"customertypecode@{FORMATTED}"] == options[stored["customertypecode"]]
        assert row[f"statecode@{FORMATTED}"] == ("Active" if stored["statecode"] == 0 else "Inactive")
        currency = stored["_transactioncurrencyid_value"]
        if currency:
            assert row[f"_transactioncurrencyid_value@{LOOKUP_LOGICAL}"] == "transactioncurrency"
            assert row[f"_transactioncurrencyid_value@{NAVIGATION}"] == "transactioncurrencyid"
            assert row[f"_transactioncurrencyid_value@{FORMATTED}"] == currencies[currency]["currencyname"]
            assert keys.index(f"_transactioncurrencyid_value@{FORMATTED}") < keys.index("_transactioncurrencyid_value")
        created = row[f"createdon@{FORMATTED}"]
        assert created.count("/") == 2 and created.endswith(("AM", "PM"))


def _money_column() -> tuple[str, str, str]:
    """(entity set, primary key, money column) of the first catalog table with money and a currency."""
    entity = next(e for e in SALES_ENTITY_SETS.values()
                  if e.column("_transactioncurrencyid_value") and any(c.type == "money" for c in e.served))
    return entity.name, entity.key[0], next(c.name for c in entity.served if c.type == "money")


def test_money_formatted_with_the_row_currency_symbol(sales, tenant):
    entity_set, key, money = _money_column()
    currencies = _by_id(tenant, "transactioncurrencies", "transactioncurrencyid")
    stored = _by_id(tenant, entity_set, key)
    rows = sales.get(entity_set, params={"$select": money, "$filter": f"{money} ne null and _transactioncurrencyid_value ne null"},
                     headers={"Prefer": f'odata.include-annotations="{FORMATTED}"'}).json()["value"]
    assert rows
    for row in rows:
        amount, currency = stored[row[key]][money], stored[row[key]]["_transactioncurrencyid_value"]
        sign = "-" if amount < 0 else ""
        assert row[f"{money}@{FORMATTED}"] == f"{sign}{currencies[currency]['currencysymbol']}{abs(amount):,.2f}"


def test_annotation_filter_picks_terms(sales):
    prefer = {"Prefer": f'odata.include-annotations="{FORMATTED}"'}
    row = sales.get("accounts", params={"$select": "statecode,_transactioncurrencyid_value", "$top": "1"}, headers=prefer).json()["value"][0]
    assert f"statecode@{FORMATTED}" in row
    assert f"_transactioncurrencyid_value@{LOOKUP_LOGICAL}" not in row
    excluded = {"Prefer": 'odata.include-annotations="*,-OData.Community.Display.V1.FormattedValue"'}
    row = sales.get("accounts", params={"$select": "statecode,_transactioncurrencyid_value", "$top": "1",
                                        "$filter": "_transactioncurrencyid_value ne null"}, headers=excluded).json()["value"][0]
    assert f"statecode@{FORMATTED}" not in row
    assert row[f"_transactioncurrencyid_value@{LOOKUP_LOGICAL}"] == "transactioncurrency"
    plain = sales.get("accounts", params={"$select": "statecode", "$top": "1"}).json()["value"][0]
    assert not [name for name in plain if "@" in name and name != "@odata.etag"]


def test_money_drags_in_currency(sales):
    entity_set, key, money = _money_column()
    row = sales.get(entity_set, params={"$select": money, "$top": "1"}).json()["value"][0]
    assert set(row) == {"@odata.etag", money, "_transactioncurrencyid_value", key}


@pytest.mark.parametrize("select", ["name", None])
def test_single_row_with_annotations(sales, tenant, select):
    account = next(row for row in tenant.sales.rows("accounts") if row["_transactioncurrencyid_value"])
    params = {"$select": select} if select else {}
    response = sales.get(f"accounts({account['accountid']})", params=params,
                         headers={"Prefer": 'odata.include-annotations="*"'})
    assert response.status_code == 200
    assert response.headers["Preference-Applied"] == 'odata.include-annotations="*"'
    body = response.json()
    assert body["@odata.context"].endswith("/$entity")
    assert body["accountid"] == account["accountid"]
    if select is None:
        assert body[f"_transactioncurrencyid_value@{LOOKUP_LOGICAL}"] == "transactioncurrency"
