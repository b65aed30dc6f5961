"""Paging and landing against an httpx MockTransport fake of an OData entity set, into a real DuckDB."""

import json
from datetime import datetime

import duckdb
import httpx
import pytest

from extract.errors import PageError
from extract.registry import Entity
from extract.run import extract_entity

ACCOUNTS = Entity("sales", "accounts", ("accountid",), (("accountid", "VARCHAR"), ("name", "VARCHAR"), ("creditlimit", "DECIMAL(19,4)")))


def fake_service(pages):
    """Serves ``pages`` (lists of rows, or raw bytes) linked by absolute nextLinks."""
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        index = int(request.url.params.get("page", "0"))
        page = pages[index]
        if isinstance(page, bytes):
            return httpx.Response(200, content=page)
        body = {"value": [{"@odata.etag": 'W/"1"', **row} for row in page]}
        if index + 1 < len(pages):
            body["@odata.nextLink"] = f"https://org.example/api/data/v9.2/accounts?page={index + 1}"
        return httpx.Response(200, json=body)

    return httpx.Client(base_url="https://org.example", transport=httpx.MockTransport(handler)), calls


def land(con, pages, run_id=1):
    client, calls = fake_service(pages)
    return extract_entity(con, client, ACCOUNTS, run_id=run_id, companies=["usmf"]), calls


def raw(con, table="accounts"):
    return con.execute(f"select accountid, name, creditlimit, _p2c_deleted from raw_sales.{table} order by 1").fetchall()


@pytest.fixture
def con():
    con = duckdb.connect()
    yield con
    con.close()


def test_every_page_is_landed_once_with_run_metadata(con):
    summary, calls = land(con, [[{"accountid": "a", "name": "A", "creditlimit": 10.5}], [{"accountid": "b", "name": None, "creditlimit": None}]])
    assert (summary.received, summary.new, summary.requests) == (2, 2, 2)
    assert calls[0].headers["Prefer"] == "odata.maxpagesize=5000"
    assert calls[0].url.params["$select"] == "accountid,name,creditlimit"
    assert str(calls[1].url) == "https://org.example/api/data/v9.2/accounts?page=1"  # followed verbatim
    assert [r[:2] for r in raw(con)] == [("a", "A"), ("b", None)]
    run_id, extracted_at, hash_ = con.execute("select _p2c_run_id, _p2c_extracted_at, _p2c_hash from raw_sales.accounts limit 1").fetchone()
    assert run_id == 1 and isinstance(extracted_at, datetime) and len(hash_) == 32


def test_rerun_detects_changes_deletes_and_keeps_history(con):
    land(con, [[{"accountid": "a", "name": "A", "creditlimit": 1}, {"accountid": "b", "name": "B", "creditlimit": 2}]])
    summary, _ = land(con, [[{"accountid": "a", "name": "A2", "creditlimit": 1}]], run_id=2)
    assert (summary.new, summary.changed, summary.deleted) == (0, 1, 1)
    assert [(r[0], r[1], r[3]) for r in raw(con)] == [("a", "A2", False), ("b", "B", True)]
    history = con.execute(
        "select accountid, name, _p2c_deleted, _p2c_valid_from_run, _p2c_valid_to_run "
        "from raw_sales.accounts__history order by accountid, _p2c_valid_from_run").fetchall()
    assert history == [("a", "A", False, 1, 2), ("a", "A2", False, 2, None), ("b", "B", False, 1, 2), ("b", "B", True, 2, None)]
    unchanged, _ = land(con, [[{"accountid": "a", "name": "A2", "creditlimit": 1}]], run_id=3)
    assert (unchanged.new, unchanged.changed, unchanged.deleted) == (0, 0, 0)


@pytest.mark.parametrize("bad_page, message", [
    (b'{"value": [ {"accountid": ', "page 2 could not be read"),
    (json.dumps({"value": [{"accountid": "c", "creditlimit": "lots"}]}).encode(), "page 2 could not be read"),
])
def test_a_bad_page_leaves_the_raw_table_as_it_was(con, bad_page, message):
    land(con, [[{"accountid": "a", "name": "A", "creditlimit": 1}]])
    before = raw(con)
    with pytest.raises(PageError, match=message):
        land(con, [[{"accountid": "a", "name": "changed", "creditlimit": 1}], bad_page], run_id=2)
    assert raw(con) == before


def test_a_repeating_next_link_stops_with_a_clear_error(con):
    def handler(request):
        return httpx.Response(200, json={"value": [], "@odata.nextLink": "https://org.example/api/data/v9.2/accounts?same"})

    client = httpx.Client(base_url="https://org.example", transport=httpx.MockTransport(handler))
    with pytest.raises(PageError, match="repeated a nextLink"):
        extract_entity(con, client, ACCOUNTS, run_id=1, companies=[])
