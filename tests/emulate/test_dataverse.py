"""The emulated Dataverse Web API over HTTPS: reads, paging, filters, writes."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest


def _account_ids(page: dict) -> list[str]:
    return [row["accountid"] for row in page["value"]]


def test_service_document_and_response_headers(sales, tenant):
    response = sales.get("")
    assert response.status_code == 200
    assert response.headers["OData-Version"] == "4.0"
    assert response.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    assert {"accounts", "transactioncurrencies"} <= {item["name"] for item in response.json()["value"]}
    assert response.json()["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata"


def test_paging_returns_every_account_once_with_reencodable_next_links(sales, tenant):
    prefer = {"Prefer": 'odata.include-annotations="*",odata.maxpagesize=50'}
    response = sales.get("accounts", params={"$select": "name"}, headers=prefer)
    assert response.headers["Preference-Applied"].split(",") == ["odata.maxpagesize=50", 'odata.include-annotations="*"']
    pages = [response.json()]
    while "@odata.nextLink" in pages[-1]:
        link = pages[-1]["@odata.nextLink"]
        assert link.startswith(f"{tenant.sales_url}/api/data/v9.2/accounts?")
        assert "<cookie pagenumber=" in dict(parse_qsl(urlsplit(link).query))["$skiptoken"]
        if len(pages) % 2:  # follow verbatim
            response = sales.get(link, headers=prefer)
        else:  # re-parse and re-encode, as some extractors do
            response = sales.get("accounts", params=parse_qsl(urlsplit(link).query), headers=prefer)
        assert response.status_code == 200, response.text
        pages.append(response.json())
    ids = [account_id for page in pages for account_id in _account_ids(page)]
    assert [len(page["value"]) for page in pages[:-1]] == [50] * (len(pages) - 1)
    assert len(pages) >= 4
    assert sorted(ids) == sorted(row["accountid"] for row in tenant.sales.rows("accounts"))
    assert len(set(ids)) == len(ids)


def test_repeated_prefer_headers_and_the_5000_cap(sales):
    response = sales.get("accounts", headers=[("Prefer", "odata.track-changes"), ("Prefer", "odata.maxpagesize=7")])
    assert len(response.json()["value"]) == 7
    capped = sales.get("accounts", headers={"Prefer": "odata.maxpagesize=9000"})
    assert capped.headers["Preference-Applied"] == "odata.maxpagesize=5000"
    assert "@odata.nextLink" not in capped.json()


def test_select_returns_key_and_etag(sales, tenant):
    row = sales.get("accounts", params={"$select": "name,accountnumber", "$top": "1"}).json()["value"][0]
    assert set(row) == {"@odata.etag", "name", "accountnumber", "accountid"}
    stored = next(r for r in tenant.sales.rows("accounts") if r["accountid"] == row["accountid"])
    assert row["@odata.etag"] == f'W/"{stored["versionnumber"]}"'


def test_filters_eq_and_null_contains(sales, tenant):
    rows = tenant.sales.rows("accounts")
    sample = rows[5]
    by_number = sales.get("accounts", params={"$filter": f"accountnumber eq '{sample['accountnumber'].lower()}'"}).json()
    assert _account_ids(by_number) == [sample["accountid"]]
    blank_country_active = sales.get("accounts", params={"$filter": "address1_country eq null and statecode eq 0"}).json()
    expected = {r["accountid"] for r in rows if r["address1_country"] is None and r["statecode"] == 0}
    assert expected and set(_account_ids(blank_country_active)) == expected
    quoted = sales.get("accounts", params={"$filter": "contains(name,'o''neil') or (startswith(name,'zz') and not (statecode ne 0))"}).json()
    assert set(_account_ids(quoted)) == {r["accountid"] for r in rows if "o'neil" in r["name"].lower()}
    newer = sales.get("accounts", params={"$filter": "modifiedon gt 2025-06-01T00:00:00Z and creditlimit ge 100000"}).json()
    assert set(_account_ids(newer)) == {r["accountid"] for r in rows
                                        if r["modifiedon"] > "2025-06-01T00:00:00Z" and (r["creditlimit"] or 0) >= 100000}


def test_orderby_and_top(sales):
    names = [row["name"] for row in sales.get("accounts", params={"$select": "name", "$orderby": "name desc", "$top": "20"}).json()["value"]]
    assert len(names) == 20 and names == sorted(names, key=str.lower, reverse=True)


@pytest.mark.parametrize("params, code", [
    ({"$skip": "10"}, "0x80060888"),
    ({"$filter": "nosuchcolumn eq 1"}, "0x80060888"),
    ({"$filter": "name eq"}, "0x80060888"),
])
def test_bad_queries_get_the_dataverse_error_envelope(sales, params, code):
    response = sales.get("accounts", params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code and response.json()["error"]["message"]


def test_create_numbers_the_account_and_reports_its_id(sales, tenant):
    usd = sales.get("transactioncurrencies", params={"$filter": "isocurrencycode eq 'USD'"}).json()["value"][0]
    response = sales.post("accounts", json={"name": "Created Co", "creditlimit": 1500.5,
                                            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({usd['transactioncurrencyid']})"})
    assert response.status_code == 204
    entity_id = response.headers["OData-EntityId"]
    match = re.fullmatch(rf"{re.escape(tenant.sales_url)}/api/data/v9\.2/accounts\(([0-9a-f-]{{36}})\)", entity_id)
    created = sales.get(f"accounts({match.group(1)})").json()
    assert re.fullmatch(r"ACC-\d{5}-[A-Z]{6}", created["accountnumber"])
    assert int(created["accountnumber"][4:9]) >= 1000 + len(tenant.sales.rows("accounts")) - 1
    assert created["_transactioncurrencyid_value"] == usd["transactioncurrencyid"]
    assert created["statecode"] == 0 and created["creditlimit"] == 1500.5
    represented = sales.post("accounts", json={"name": "Represented"}, headers={"Prefer": "return=representation"})
    assert represented.status_code == 201
    assert represented.headers["Preference-Applied"] == "return=representation"
    assert represented.json()["accountnumber"].startswith("ACC-") and represented.json()["@odata.etag"].startswith('W/"')


def test_patch_by_alternate_key_upserts_and_bumps_the_version(sales):
    url = "contacts(msdynce_contactnumber='CON-UPSERT-1')"
    created = sales.patch(url, json={"lastname": "Upserted", "telephone1": "1"})
    assert created.status_code == 204
    assert created.headers["OData-EntityId"].endswith("/contacts(msdynce_contactnumber='CON-UPSERT-1')")
    first = sales.get(url).json()
    updated = sales.patch(url, json={"telephone1": "2"})
    assert updated.status_code == 204
    second = sales.get(url).json()
    assert second["contactid"] == first["contactid"] and second["telephone1"] == "2"
    assert second["@odata.etag"] != first["@odata.etag"] and second["versionnumber"] > first["versionnumber"]
    assert second["modifiedon"] >= first["modifiedon"]
    assert len(sales.get("contacts", params={"$filter": "msdynce_contactnumber eq 'CON-UPSERT-1'"}).json()["value"]) == 1


def test_if_match_stale_gives_412_and_missing_gives_404(sales):
    row = sales.get("accounts", params={"$top": "1", "$filter": "statecode eq 0"}).json()["value"][0]
    url = f"accounts({row['accountid']})"
    assert sales.patch(url, json={"fax": "x"}, headers={"If-Match": row["@odata.etag"]}).status_code == 204
    stale = sales.patch(url, json={"fax": "y"}, headers={"If-Match": row["@odata.etag"]})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "0x80060882"
    missing = sales.patch("accounts(00000000-0000-0000-0000-0000000000aa)", json={"fax": "z"}, headers={"If-Match": "*"})
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x80040217"


def test_delete_and_duplicate_alternate_key(sales):
    response = sales.post("contacts", json={"lastname": "Doomed", "msdynce_contactnumber": "CON-DUP-1"})
    assert response.status_code == 204
    duplicate = sales.post("contacts", json={"lastname": "Twin", "msdynce_contactnumber": "con-dup-1"})
    assert duplicate.status_code == 412 and duplicate.json()["error"]["code"] == "0x80040237"
    url = response.headers["OData-EntityId"].rsplit("/", 1)[1]
    assert sales.delete(url).status_code == 204
    assert sales.delete(url).status_code == 404


def test_paging_with_orderby_covers_every_row(sales, tenant):
    prefer = {"Prefer": "odata.maxpagesize=60"}
    page = sales.get("accounts", params={"$select": "name", "$orderby": "name asc"}, headers=prefer).json()
    names, ids = [], []
    while True:
        names += [row["name"] for row in page["value"]]
        ids += _account_ids(page)
        if "@odata.nextLink" not in page:
            break
        page = sales.get(page["@odata.nextLink"], headers=prefer).json()
    assert sorted(ids) == sorted(row["accountid"] for row in tenant.sales.rows("accounts"))
    assert names == sorted(names, key=str.lower)


def test_an_alternate_key_names_its_row_whatever_the_case(sales):
    created = sales.patch("contacts(msdynce_contactnumber='CON-CASE-1')", json={"lastname": "Cased"})
    assert created.status_code == 204
    found = sales.get("contacts(msdynce_contactnumber='con-case-1')")
    assert found.status_code == 200 and found.json()["msdynce_contactnumber"] == "CON-CASE-1"
    updated = sales.patch("contacts(msdynce_contactnumber='Con-Case-1')", json={"telephone1": "9"})
    assert updated.status_code == 204
    rows = sales.get("contacts", params={"$filter": "msdynce_contactnumber eq 'CON-CASE-1'"}).json()["value"]
    assert len(rows) == 1 and rows[0]["telephone1"] == "9"


@pytest.mark.parametrize("amount", [1e17, -1e15])
def test_a_money_value_outside_the_platform_range_is_a_validation_error(sales, amount):
    refused = sales.post("accounts", json={"name": "Too rich", "creditlimit": amount})
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "0x80044331" and "'creditlimit'" in error["message"] and "outside the valid range" in error["message"]
