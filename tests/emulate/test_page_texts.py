"""Stored page bodies (emulate/json_cache.py `PageTexts`): pages read by key are filed by what they hold, kept
across restarts, and never served for rows written since, nor for a tenant file gone back in time.

Scans follow next links over HTTPS like a client and compare every served row with the store.
"""

import json
import shutil
from contextlib import contextmanager

import pytest

from emulate.json_cache import PageTexts, Stamp
from emulate.tenant import PAGE_TEXTS, EmulatedTenant
from tests.emulate.test_read_ahead import scan, settled

ACCOUNT_COLUMNS = "name,accountnumber,telephone1,creditlimit,description,statecode,modifiedon"
ACCOUNT_PAGE = {"Prefer": "odata.maxpagesize=40"}


def _scan(get) -> list[bytes]:
    """Every page's body of the accounts scan, following next links (`get(url_or_path, **kwargs)`)."""
    return scan(get, "accounts", {"$select": ACCOUNT_COLUMNS}, ACCOUNT_PAGE)


def _rows(bodies: list[bytes]) -> dict:
    return {row["accountid"]: row for body in bodies for row in json.loads(body)["value"]}


def _values(bodies: list[bytes]) -> list[list]:
    """Each page's rows as served (the context URL names the port, new at each start)."""
    return [json.loads(body)["value"] for body in bodies]


def _assert_fresh(bodies: list[bytes], tenant: EmulatedTenant) -> dict:
    """The served rows are the stored ones (values and etags), 40 to a page but the last."""
    sizes = [len(json.loads(body)["value"]) for body in bodies]
    assert all(size == 40 for size in sizes[:-1]) and 0 < sizes[-1] <= 40
    served, stored = _rows(bodies), {row["accountid"]: row for row in tenant.sales.rows("accounts")}
    assert served.keys() == stored.keys()
    for row_id, row in served.items():
        assert {c: row[c] for c in ACCOUNT_COLUMNS.split(",")} == {c: stored[row_id][c] for c in ACCOUNT_COLUMNS.split(",")}
        assert row["@odata.etag"] == f'W/"{stored[row_id]["versionnumber"]}"'
    return served


@contextmanager
def _started(state_dir, client_for, token_for):
    """A tenant on `state_dir` and a `get(url_or_path, **kwargs)` on its Dataverse root."""
    with EmulatedTenant.start(state_dir, scale=1) as tenant, client_for(tenant) as client:
        headers = {"Authorization": f"Bearer {token_for(tenant, client, tenant.sales_url)}"}
        root = f"{tenant.sales_url}/api/data/v9.2/"

        def request(method: str, url: str, **kwargs):
            return client.request(method, url if url.startswith("https:") else root + url,
                                  headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        yield tenant, request


def test_a_write_between_two_scans_is_served_and_only_its_page_built_again(sales, tenant):
    pages = tenant.sales.store.page_texts
    first = _assert_fresh(_scan(sales.get), tenant)
    settled(tenant.sales.read_ahead)
    target = list(first)[45]  # on the second page
    assert sales.patch(f"accounts({target})", json={"telephone1": "555-0123", "name": "Written between scans"}).status_code == 204
    built, reused = pages.built, pages.reused
    second = _assert_fresh(_scan(sales.get), tenant)
    settled(tenant.sales.read_ahead)
    assert second[target]["name"] == "Written between scans" and second[target]["@odata.etag"] != first[target]["@odata.etag"]
    assert pages.built == built + 1 and pages.reused > reused  # the other pages are read back as stored


def test_inserted_and_deleted_rows_move_the_page_bounds(sales, tenant):
    first = _assert_fresh(_scan(sales.get), tenant)
    settled(tenant.sales.read_ahead)
    for n in range(3):
        assert sales.post("accounts", json={"name": f"Inserted between scans {n}"}).status_code == 204
    for row_id in list(first)[50:53]:
        assert sales.delete(f"accounts({row_id})").status_code == 204
    served = _assert_fresh(_scan(sales.get), tenant)
    assert len(served) == len(first)


def test_stored_pages_outlive_a_restart_and_never_serve_a_newer_version(state_dir, client_for, token_for):
    with _started(state_dir, client_for, token_for) as (tenant, get):
        bodies = _scan(lambda url, **kw: get("GET", url, **kw))
        settled(tenant.sales.read_ahead)
        assert tenant.sales.store.page_texts.built == len(bodies)
    assert (state_dir / PAGE_TEXTS).is_dir()
    with _started(state_dir, client_for, token_for) as (tenant, request):
        settled(tenant.sales.read_ahead)
        get = lambda url, **kw: request("GET", url, **kw)  # noqa: E731
        assert _values(_scan(get)) == _values(bodies)
        settled(tenant.sales.read_ahead)
        assert tenant.sales.store.page_texts.built == 0  # every page read back as stored
        target = list(_rows(bodies))[7]
        assert request("PATCH", f"accounts({target})", json={"description": "after the restart"}).status_code == 204
        written = _assert_fresh(_scan(get), tenant)
        assert written[target]["description"] == "after the restart"
    with _started(state_dir, client_for, token_for) as (tenant, request):
        again = _assert_fresh(_scan(lambda url, **kw: request("GET", url, **kw)), tenant)
        assert again[target]["description"] == "after the restart"


def test_a_tenant_file_gone_back_in_time_drops_its_stored_pages(state_dir, client_for, token_for, tmp_path):
    """A restored copy of the state file hands out again the versions written after the copy: a page stored since
    would name the same (row, version) pairs with other values, so every stored page is dropped."""
    with _started(state_dir, client_for, token_for) as (tenant, request):
        target = list(_rows(_scan(lambda url, **kw: request("GET", url, **kw))))[3]
    shutil.copy(state_dir / "tenant.duckdb", tmp_path / "copy.duckdb")
    with _started(state_dir, client_for, token_for) as (tenant, request):
        assert request("PATCH", f"accounts({target})", json={"name": "Lost with the restore"}).status_code == 204
        lost = _rows(_scan(lambda url, **kw: request("GET", url, **kw)))[target]
    shutil.copy(tmp_path / "copy.duckdb", state_dir / "tenant.duckdb")
    with _started(state_dir, client_for, token_for) as (tenant, request):
        settled(tenant.sales.read_ahead)  # the warm-up builds the first pages again: none is read back
        assert tenant.sales.store.page_texts.reused == 0 and tenant.sales.store.page_texts.built > 0
        assert request("PATCH", f"accounts({target})", json={"name": "Written after the restore"}).status_code == 204
        served = _assert_fresh(_scan(lambda url, **kw: request("GET", url, **kw)), tenant)
    assert served[target]["@odata.etag"] == lost["@odata.etag"]  # the same version, other values
    assert served[target]["name"] == "Written after the restore"


def _stamp() -> Stamp:
    return Stamp("sales_accounts", "versionnumber", 5)


def test_bodies_of_another_tenant_or_torn_are_not_read(tmp_path):
    pages = PageTexts()
    pages.attach(tmp_path, "tenant-a", lambda table, column: 10)
    pages.add("one", b'{"a":1}', _stamp())
    pages.add("two", b'{"b":2}', _stamp())
    pages.close()

    pages.attach(tmp_path, "tenant-a", lambda table, column: 10)
    assert pages.find("one") == b'{"a":1}' and pages.find("two") == b'{"b":2}'
    pages.close()

    data = tmp_path / "page_texts.bin"
    data.write_bytes(data.read_bytes().replace(b'{"b":2}', b'{"b":3}'))  # a body torn by a crash
    with (tmp_path / "page_texts.index").open("a") as index:
        index.write("three 0 99")  # a torn line
    pages.attach(tmp_path, "tenant-a", lambda table, column: 10)
    assert pages.find("one") == b'{"a":1}' and pages.find("two") is None and pages.find("three") is None
    pages.close()

    pages.attach(tmp_path, "tenant-b", lambda table, column: 10)
    assert pages.find("one") is None and pages.size == 0
    pages.close()


@pytest.mark.parametrize("highest", [4, None])
def test_bodies_above_a_table_highest_version_are_dropped(tmp_path, highest):
    pages = PageTexts()
    pages.attach(tmp_path, "tenant-a", lambda table, column: 10)
    pages.add("one", b"{}", _stamp())
    pages.close()
    pages.attach(tmp_path, "tenant-a", lambda table, column: highest)
    assert pages.find("one") is None
    pages.close()


def test_a_stamp_naming_a_table_or_column_gone_reads_as_no_version(tenant):
    """What `attach` checks stored bodies against: a table or version column no longer there is None (the bodies
    are dropped), not an error that stops the tenant from starting."""
    store = tenant.sales.store
    assert store.highest_version("sales_accounts", "versionnumber") == max(r["versionnumber"] for r in tenant.sales.rows("accounts"))
    assert store.highest_version("sales_accounts", "no_such_column") is None
    assert store.highest_version("no_such_table", "versionnumber") is None


def test_a_scans_bounds_add_up_until_one_is_found_wrong():
    """Bounds found from a later page join those known; the last page (no bounds) keeps them; a wrong one drops all."""
    pages = PageTexts()
    pages.keep_hints("scan", {None: "k5", "k4": "k9"})
    pages.keep_hints("scan", {"k8": "k13"})
    pages.keep_hints("scan", {})  # the scan's last page: no bound after it
    assert [pages.hint("scan", after) for after in (None, "k4", "k8")] == ["k5", "k9", "k13"]
    pages.forget_hints("scan")
    assert pages.hint("scan", None) is None


def test_over_budget_the_file_starts_again(tmp_path):
    pages = PageTexts(budget=10)
    pages.attach(tmp_path, "tenant-a", lambda table, column: 10)
    pages.add("one", b"123456", _stamp())
    pages.add("two", b"7890ab", _stamp())  # over budget: the file starts again
    assert pages.find("one") is None and pages.find("two") == b"7890ab" and pages.size == 6
    pages.add("big", b"x" * 11, _stamp())  # larger than the budget: not stored
    assert pages.find("big") is None
    pages.close()
