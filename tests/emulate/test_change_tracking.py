"""Dataverse change tracking over HTTPS: track-changes, deltaLink, $deletedEntity rows, expiry (protocols.md 1.4, 5.1)."""

import datetime as dt
import re
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from emulate.catalog import SALES_ENTITY_SETS

TRACK = {"Prefer": "odata.track-changes,odata.maxpagesize=80"}
SELECT = {"$select": "name,telephone1"}


def _initial_sync(sales) -> tuple[list[dict], str]:
    """Every page of a tracked read; returns the rows and the deltaLink of the last page."""
    response = sales.get("accounts", params=SELECT, headers=TRACK)
    assert response.status_code == 200, response.text
    assert "odata.track-changes" in response.headers["Preference-Applied"]
    pages = [response.json()]
    while "@odata.nextLink" in pages[-1]:
        assert "@odata.deltaLink" not in pages[-1]
        pages.append(sales.get(pages[-1]["@odata.nextLink"], headers=TRACK).json())
    return [row for page in pages for row in page["value"]], pages[-1]["@odata.deltaLink"]


def _token(link: str) -> str:
    return dict(parse_qsl(urlsplit(link).query))["$deltatoken"]


def test_initial_sync_pages_then_gives_a_delta_link(sales, tenant):
    rows, delta_link = _initial_sync(sales)
    assert sorted(r["accountid"] for r in rows) == sorted(r["accountid"] for r in tenant.sales.rows("accounts"))
    assert delta_link.startswith(f"{tenant.sales_url}/api/data/v9.2/accounts?")
    assert "$select=name%2Ctelephone1" in delta_link
    assert re.fullmatch(r"\d+!\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", _token(delta_link))
    assert "%21" in delta_link and "%2F" in delta_link  # the token travels URL-encoded


def test_no_changes_gives_an_empty_delta(sales, tenant):
    _, delta_link = _initial_sync(sales)
    response = sales.get(delta_link)
    assert response.status_code == 200
    body = response.json()
    assert body["value"] == []
    assert body["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata#accounts(name,telephone1)/$delta"
    assert _token(body["@odata.deltaLink"]).split("!")[0] == _token(delta_link).split("!")[0]


def test_delta_holds_changed_rows_then_deleted_rows(sales, tenant):
    _, delta_link = _initial_sync(sales)
    victims = [row["accountid"] for row in tenant.sales.rows("accounts")[:2]]
    edited = tenant.sales.rows("accounts")[5]["accountid"]
    assert sales.patch(f"accounts({edited})", json={"telephone1": "+1-555-0100"}, headers={"If-Match": "*"}).status_code == 204
    created = sales.post("accounts", json={"name": "Delta Newcomer Ltd"})
    assert created.status_code == 204
    created_id = re.search(r"\(([0-9a-f-]{36})\)", created.headers["OData-EntityId"]).group(1)
    for victim in victims:
        assert sales.delete(f"accounts({victim})").status_code == 204
    shortlived = sales.post("accounts", json={"name": "Gone Before Sync"})
    shortlived_id = re.search(r"\(([0-9a-f-]{36})\)", shortlived.headers["OData-EntityId"]).group(1)
    assert sales.delete(f"accounts({shortlived_id})").status_code == 204

    assert sales.get(f"accounts/$count?$deltatoken={_token(delta_link)}").text == "5"
    body = sales.get(delta_link).json()
    changed = [row for row in body["value"] if "reason" not in row]
    deleted = [row for row in body["value"] if row.get("reason") == "deleted"]
    assert body["value"] == changed + deleted  # changes first, deletions last
    assert {row["accountid"] for row in changed} == {edited, created_id}
    assert all(set(row) == {"@odata.etag", "name", "telephone1", "accountid"} for row in changed)
    assert next(r for r in changed if r["accountid"] == edited)["telephone1"] == "+1-555-0100"
    assert {row["id"] for row in deleted} == {*victims, shortlived_id}
    for row in deleted:
        assert row == {"@odata.context": f"{tenant.sales_url}/api/data/v9.2/$metadata#accounts/$deletedEntity",
                       "id": row["id"], "reason": "deleted"}
    assert sales.get(body["@odata.deltaLink"]).json()["value"] == []


def test_delta_pages_with_maxpagesize(sales, tenant):
    _, delta_link = _initial_sync(sales)
    ids = [row["accountid"] for row in tenant.sales.rows("accounts")[10:15]]
    for account_id in ids:
        sales.patch(f"accounts({account_id})", json={"fax": "+1-555-0199"}, headers={"If-Match": "*"})
    sales.delete(f"accounts({ids[0]})")
    small = {"Prefer": "odata.maxpagesize=2"}
    page = sales.get(delta_link, headers=small).json()
    seen = list(page["value"])
    while "@odata.nextLink" in page:
        assert len(page["value"]) == 2
        page = sales.get(page["@odata.nextLink"], headers=small).json()
        seen += page["value"]
    assert "@odata.deltaLink" in page
    assert sorted(r.get("accountid") or r["id"] for r in seen) == sorted(ids)
    assert seen[-1] == {"@odata.context": seen[-1]["@odata.context"], "id": ids[0], "reason": "deleted"}


@pytest.mark.parametrize("option, value", [("$filter", "statecode eq 0"), ("$orderby", "name"), ("$top", "5"),
                                           ("$expand", "transactioncurrencyid")])
def test_query_options_refused_with_track_changes(sales, option, value):
    response = sales.get("accounts", params={option: value}, headers={"Prefer": "odata.track-changes"})
    assert response.status_code == 400
    assert response.json()["error"]["message"] == f'The "{option}" query parameter isn\'t supported when Change Tracking is enabled.'


def test_expired_token_asks_for_a_full_sync(sales, tenant):
    _, delta_link = _initial_sync(sales)
    version = _token(delta_link).split("!")[0]
    old = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=8)).strftime("%m/%d/%Y %H:%M:%S")
    response = sales.get("accounts", params={**SELECT, "$deltatoken": f"{version}!{old}"})
    assert response.status_code == 400
    assert response.json() == {"error": {"code": "0x80044352",
                                         "message": "Version stamp associated with the client has expired. Please perform a full sync."}}
    retention = tenant.sales.changes.retention
    tenant.sales.changes.retention = dt.timedelta(days=30)
    try:
        assert sales.get("accounts", params={**SELECT, "$deltatoken": f"{version}!{old}"}).status_code == 200
    finally:
        tenant.sales.changes.retention = retention


def test_tables_without_change_tracking_refuse_delta_tokens(sales, tenant):
    untracked = next(name for name, e in SALES_ENTITY_SETS.items() if not e.change_tracking)
    plain = sales.get(untracked, headers={"Prefer": "odata.track-changes"})
    assert plain.status_code == 200
    assert "@odata.deltaLink" not in plain.json()
    assert "odata.track-changes" not in plain.headers.get("Preference-Applied", "")
    assert sales.get(untracked, params={"$deltatoken": "1!01/01/2026 00:00:00"}).status_code == 400


def test_skiptoken_of_a_tracked_read_is_marked_tracking(sales):
    page = sales.get("accounts", params=SELECT, headers=TRACK).json()
    token = unquote(dict(parse_qsl(urlsplit(page["@odata.nextLink"]).query))["$skiptoken"])
    assert 'istracking="True"' in token
