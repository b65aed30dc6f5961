"""Paging and landing against an httpx MockTransport fake of an OData entity set, into a real DuckDB."""

import json
from datetime import datetime

import duckdb
import httpx
import pytest

from extract.errors import PageError
from extract.land import HASH_FORMAT, ensure_raw_tables, split_page
from extract.registry import Entity
from extract.run import extract_entity
from extract.sql import row_hash

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
    assert run_id == 1 and isinstance(extracted_at, datetime) and len(hash_) == 16


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


def test_a_key_on_two_pages_lands_once_as_its_later_version(con):
    pages = [[{"accountid": "a", "name": "first", "creditlimit": 1}, {"accountid": "b", "name": "B", "creditlimit": 2}],
             [{"accountid": "c", "name": "C", "creditlimit": 3}], [{"accountid": "a", "name": "second", "creditlimit": 1}]]
    summary, _ = land(con, pages)
    assert (summary.received, summary.new) == (3, 3)
    assert [r[:2] for r in raw(con)] == [("a", "second"), ("b", "B"), ("c", "C")]


def test_a_page_is_cut_into_its_rows_and_its_envelope_even_with_brackets_in_its_links():
    body = (b'{"@odata.context": "https://x/$metadata#accounts(name)", "value" : [{"name": "a]b"}, {"name": "[]"}],'
            b' "@odata.nextLink": "https://x/accounts?$skiptoken=%5B]1]", "@odata.count": 2}')
    rows, envelope = split_page(body)
    assert json.loads(bytes(rows)) == [{"name": "a]b"}, {"name": "[]"}]
    assert envelope == {"@odata.context": "https://x/$metadata#accounts(name)", "value": [],
                        "@odata.nextLink": "https://x/accounts?$skiptoken=%5B]1]", "@odata.count": 2}
    for bad in (b'{"value": [ {"accountid": ', b'[{"accountid": "a"}]', b'{"rows": []}', b'{"value": []} trailing'):
        with pytest.raises(ValueError):
            split_page(bad)


def test_history_is_stored_once_and_a_newly_declared_column_reaches_its_view(con):
    land(con, [[{"accountid": "a", "name": "A", "creditlimit": 1}, {"accountid": "b", "name": "B", "creditlimit": 2}]])
    assert con.execute("select count(*) from raw_sales.accounts__replaced").fetchone() == (0,)  # a first load writes raw only
    land(con, [[{"accountid": "a", "name": "A2", "creditlimit": 1}, {"accountid": "b", "name": "B", "creditlimit": 2}]], run_id=2)
    assert con.execute("select accountid, name, _p2c_valid_from_run, _p2c_valid_to_run from raw_sales.accounts__replaced"
                       ).fetchall() == [("a", "A", 1, 2)]  # only the version run 2 replaced
    wider = Entity("sales", "accounts", ACCOUNTS.key, (*ACCOUNTS.columns, ("telephone1", "VARCHAR")))
    ensure_raw_tables(con, wider)
    assert con.execute("select accountid, telephone1, _p2c_valid_from_run from raw_sales.accounts__history order by all"
                       ).fetchall() == [("a", None, 1), ("a", None, 2), ("b", None, 1)]


def test_a_staging_file_with_a_history_table_is_moved_to_the_view_with_the_same_versions(con):
    land(con, [[{"accountid": "a", "name": "A", "creditlimit": 1}, {"accountid": "b", "name": "B", "creditlimit": 2}]])
    land(con, [[{"accountid": "a", "name": "A2", "creditlimit": 1}]], run_id=2)
    versions = "select * from raw_sales.accounts__history order by accountid, _p2c_valid_from_run"
    before = con.execute(versions).fetchall()
    # what an older p2c kept: one history table holding every version, the current ones included
    con.execute("create table raw_sales.old_history as select * from raw_sales.accounts__history")
    con.execute("drop view raw_sales.accounts__history")
    con.execute("drop table raw_sales.accounts__replaced")
    con.execute("alter table raw_sales.old_history rename to accounts__history")
    ensure_raw_tables(con, ACCOUNTS)
    assert con.execute("select table_type from information_schema.tables where table_name = 'accounts__history'"
                       ).fetchall() == [("VIEW",)]
    assert con.execute(versions).fetchall() == before
    summary, _ = land(con, [[{"accountid": "a", "name": "A3", "creditlimit": 1}]], run_id=3)
    assert (summary.changed, summary.deleted) == (1, 0)
    assert con.execute("select name, _p2c_valid_from_run, _p2c_valid_to_run from raw_sales.accounts__history "
                       "where accountid = 'a' order by 2").fetchall() == [("A", 1, 2), ("A2", 2, 3), ("A3", 3, None)]


def test_hashes_made_by_an_older_p2c_are_recomputed_once_not_reported_as_changes(con):
    rows = [{"accountid": "a", "name": "A", "creditlimit": 1}, {"accountid": "b", "name": None, "creditlimit": 2.5}]
    land(con, [rows])
    current = con.execute("select accountid, _p2c_hash from raw_sales.accounts order by 1").fetchall()
    # what p2c stored before: md5 of the row as JSON, and no record of the hash format
    con.execute("update raw_sales.accounts set _p2c_hash = md5(to_json({'accountid': accountid, 'name': name}))")
    con.execute("update raw_sales.accounts__replaced set _p2c_hash = md5(to_json({'accountid': accountid, 'name': name}))")
    con.execute("delete from p2c_meta.raw_hash")
    summary, _ = land(con, [rows + [{"accountid": "c", "name": "C", "creditlimit": 3}]], run_id=2)
    assert (summary.new, summary.changed, summary.deleted) == (1, 0, 0)
    assert con.execute("select accountid, _p2c_hash from raw_sales.accounts where accountid <> 'c' order by 1").fetchall() == current
    assert con.execute("select format from p2c_meta.raw_hash").fetchall() == [(HASH_FORMAT,)]
    history = con.execute("select accountid, _p2c_valid_from_run from raw_sales.accounts__history order by 1").fetchall()
    assert history == [("a", 1), ("b", 1), ("c", 2)]  # no new version for the rows whose hash was only re-made
    assert con.execute("select accountid, _p2c_hash from raw_sales.accounts__history where accountid <> 'c' order by 1"
                       ).fetchall() == current  # history re-hashed too, so a replay of run 1 hashes as raw does
    con.execute("update raw_sales.accounts set _p2c_hash = 'stale' where accountid = 'a'")  # same format: trusted as stored
    summary, _ = land(con, [rows], run_id=3)
    assert (summary.new, summary.changed, summary.deleted) == (0, 1, 1)


def test_the_row_hash_is_reproducible_from_the_raw_columns(con):
    land(con, [[{"accountid": "a", "name": "A", "creditlimit": 1}, {"accountid": "b", "name": None, "creditlimit": None}]])
    recomputed = row_hash(ACCOUNTS.column_names)
    assert con.execute(f"select count(*) from raw_sales.accounts where _p2c_hash = {recomputed}").fetchone()[0] == 2
    # what an auditor types, written out by hand for the registry's columns (not built by the code under test)
    by_hand = "printf('%016x', hash({" + ", ".join(f"'{n}': \"{n}\"" for n in ACCOUNTS.column_names) + "}))"
    assert con.execute(f"select count(*) from raw_sales.accounts where _p2c_hash = {by_hand}").fetchone()[0] == 2
    assert con.execute("select count(distinct _p2c_hash) from raw_sales.accounts").fetchone()[0] == 2


def test_a_type_change_on_a_first_load_leaves_raw_empty_and_names_the_page(con):
    pages = [[{"accountid": "a", "name": "A", "creditlimit": 1}], [{"accountid": "b", "name": "B", "creditlimit": "lots"}]]
    with pytest.raises(PageError, match=r"^sales\.accounts: page 2 could not be read: .*lots") as failed:
        land(con, pages)
    assert "p2c-spool" not in str(failed.value)  # the page file's path is not shown
    assert raw(con) == []
    assert con.execute("select count(*) from raw_sales.accounts__history").fetchone() == (0,)
    assert con.execute("select count(*) from p2c_meta.raw_hash").fetchone() == (0,)

