"""Pages come from the row-text cache or, read by key, the stored page bodies (emulate/json_cache.py), and never serve a stale row.

Each test warms the cache by reading, writes through one path (PATCH, `$batch`, a bulk
action, a rule on a related row, a scenario step, a delete, a rolled-back change set), reads
again and compares every served row with the store.
"""

import re
import uuid

import pytest

from emulate.scenarios import edit_accounts
from emulate.scenarios_fno import confirm_fno_orders, create_fno_orders
from tests.emulate.multipart import batch, change_set, request_part

API = "/api/data/v9.2"
ACCOUNT_COLUMNS = ("name", "accountnumber", "telephone1", "creditlimit", "description", "statecode", "modifiedon")
CONTACT_COLUMNS = ("fullname", "msdynce_isactivecustomer", "modifiedon")


def _served(client, url: str, params: dict, headers: dict, key) -> dict:
    """Every row of a collection, following next links, by `key(row)`."""
    rows, response = {}, client.get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        rows.update((key(row), row) for row in body["value"])
        if "@odata.nextLink" not in body:
            return rows
        response = client.get(body["@odata.nextLink"], headers=headers)


def _sales_served(sales, entity_set: str, key: str, columns: tuple[str, ...]) -> dict:
    return _served(sales, entity_set, {"$select": ",".join(columns)}, {"Prefer": "odata.maxpagesize=40"}, lambda row: row[key])


def _assert_sales_fresh(sales, tenant, entity_set: str, key: str, columns: tuple[str, ...]) -> dict:
    """The served rows are the stored ones: same set, same values, etags at the stored version."""
    served = _sales_served(sales, entity_set, key, columns)
    stored = {row[key]: row for row in tenant.sales.rows(entity_set)}
    assert served.keys() == stored.keys()
    for row_id, row in served.items():
        assert {c: row[c] for c in columns} == {c: stored[row_id][c] for c in columns}, row_id
        assert row["@odata.etag"] == f'W/"{stored[row_id]["versionnumber"]}"'
    return served


def _cached_bytes(tenant) -> int:
    """Row texts held and page bodies stored (pages read by key)."""
    store = tenant.sales.store
    return store.row_texts.size + store.page_texts.size


@pytest.fixture
def account(sales, tenant) -> str:
    """An account whose text is cached."""
    _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)
    assert _cached_bytes(tenant) > 0
    return tenant.sales.rows("accounts")[3]["accountid"]


def test_repeated_pages_come_from_the_cache(sales, tenant):
    first = _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)
    held = _cached_bytes(tenant)
    assert held > sum(len(str(row)) for row in first.values()) // 4  # every served row's text is kept
    assert _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS) == first
    assert _cached_bytes(tenant) == held  # nothing rebuilt: no row changed


def test_a_patch_is_served_at_once(sales, tenant, account):
    before = _sales_served(sales, "accounts", "accountid", ACCOUNT_COLUMNS)[account]
    assert sales.patch(f"accounts({account})", json={"telephone1": "555-0101", "description": "line one\nline two"}).status_code == 204
    after = _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)[account]
    assert after["telephone1"] == "555-0101" and after["description"] == "line one\nline two"  # a newline inside a text
    assert after["@odata.etag"] != before["@odata.etag"]


def test_a_batch_change_set_is_served_and_a_rolled_back_one_is_not(sales, tenant, account):
    headers, body = batch(change_set(request_part("PATCH", f"{API}/accounts({account})", {"name": "Batched name"}, content_id="1")))
    assert sales.post("$batch", content=body, headers=headers).status_code == 200
    assert _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)[account]["name"] == "Batched name"
    headers, body = batch(change_set(request_part("PATCH", f"{API}/accounts({account})", {"name": "Never stored"}, content_id="1"),
                                     request_part("POST", f"{API}/accounts", {"name": "x" * 161}, content_id="2")))
    assert sales.post("$batch", content=body, headers=headers).status_code == 400
    assert _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)[account]["name"] == "Batched name"


def test_update_multiple_is_served(sales, tenant, account):
    others = [row["accountid"] for row in tenant.sales.rows("accounts")[10:13]]
    response = sales.post("accounts/Microsoft.Dynamics.CRM.UpdateMultiple", json={"Targets": [
        {"accountid": row_id, "creditlimit": 1234.5 + n, "@odata.type": "Microsoft.Dynamics.CRM.account"}
        for n, row_id in enumerate([account, *others])]})
    assert response.status_code == 204, response.text
    served = _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)
    assert [served[row_id]["creditlimit"] for row_id in [account, *others]] == [1234.5, 1235.5, 1236.5, 1237.5]


def test_a_rule_changing_a_related_row_is_served(sales, tenant):
    created = sales.post("contacts", json={"firstname": "Cached", "lastname": f"Customer {uuid.uuid4().hex[:6]}"})
    contact = created.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    assert _assert_sales_fresh(sales, tenant, "contacts", "contactid", CONTACT_COLUMNS)[contact]["msdynce_isactivecustomer"] is False
    quote = sales.post("quotes", json={"name": "Makes an active customer", "customerid_contact@odata.bind": f"/contacts({contact})"})
    assert quote.status_code == 204, quote.text
    assert _assert_sales_fresh(sales, tenant, "contacts", "contactid", CONTACT_COLUMNS)[contact]["msdynce_isactivecustomer"] is True


def test_a_scenario_edit_is_served(sales, tenant, account):
    edited = edit_accounts(tenant, 5, seed=11)
    assert edited
    served = _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)
    assert set(edited) <= {row["accountnumber"] for row in served.values()}


def test_a_deleted_row_is_not_served(sales, tenant, account):
    assert sales.delete(f"accounts({account})").status_code == 204
    assert account not in _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)


def test_paging_by_key_and_by_order_agree_with_the_store(sales, tenant):
    by_name = _served(sales, "accounts", {"$select": "name", "$orderby": "name desc"}, {"Prefer": "odata.maxpagesize=25"},
                      lambda row: row["accountid"])
    again = _served(sales, "accounts", {"$select": "name", "$orderby": "name desc"}, {"Prefer": "odata.maxpagesize=25"},
                    lambda row: row["accountid"])
    stored = {row["accountid"]: row["name"] for row in tenant.sales.rows("accounts")}
    assert {row_id: row["name"] for row_id, row in by_name.items()} == stored
    assert list(again) == list(by_name)  # the same order, page after page


def _fno_served(fno, entity_set: str, key: tuple[str, ...], columns: tuple[str, ...]) -> dict:
    return _served(fno, entity_set, {"$select": ",".join(columns), "cross-company": "true"}, {},
                   lambda row: tuple(row[k] for k in key))


def _assert_fno_fresh(fno, tenant, entity_set: str, key: tuple[str, ...], columns: tuple[str, ...]) -> dict:
    served = _fno_served(fno, entity_set, key, columns)
    stored = {tuple(row[k] for k in key): row for row in tenant.fno.rows(entity_set)}
    assert served.keys() == stored.keys()
    for row_key, row in served.items():
        assert {c: row[c] for c in columns} == {c: stored[row_key][c] for c in columns}, row_key
    return served


CUSTOMER_KEY = ("dataAreaId", "CustomerAccount")
CUSTOMER_COLUMNS = (*CUSTOMER_KEY, "SalesMemo", "CreditLimit", "IsExternallyMaintained")
ORDER_KEY = ("dataAreaId", "SalesOrderNumber")
ORDER_COLUMNS = (*ORDER_KEY, "SalesOrderProcessingStatus", "SalesOrderName")


def test_fno_patch_and_delete_are_served(fno, tenant):
    served = _assert_fno_fresh(fno, tenant, "CustomersV2", CUSTOMER_KEY, CUSTOMER_COLUMNS)
    (company, account), (gone_company, gone) = list(served)[:2]
    url = f"CustomersV2(dataAreaId='{company}',CustomerAccount='{account}')"
    assert fno.patch(url, params={"cross-company": "true"}, json={"SalesMemo": "cached memo"}).status_code == 204
    after = _assert_fno_fresh(fno, tenant, "CustomersV2", CUSTOMER_KEY, CUSTOMER_COLUMNS)
    assert after[(company, account)]["SalesMemo"] == "cached memo"
    assert after[(company, account)]["@odata.etag"] != served[(company, account)]["@odata.etag"]
    gone_url = f"CustomersV2(dataAreaId='{gone_company}',CustomerAccount='{gone}')"
    assert fno.delete(gone_url, params={"cross-company": "true"}).status_code == 204
    assert (gone_company, gone) not in _assert_fno_fresh(fno, tenant, "CustomersV2", CUSTOMER_KEY, CUSTOMER_COLUMNS)


def test_fno_scenario_steps_are_served(fno, tenant):
    created = create_fno_orders(tenant, 2, seed=7)
    before = _assert_fno_fresh(fno, tenant, "CDSSalesOrderHeaders", ORDER_KEY, ORDER_COLUMNS)
    confirmed = set(confirm_fno_orders(tenant, 100, seed=7)) & set(created)
    assert confirmed
    after = _assert_fno_fresh(fno, tenant, "CDSSalesOrderHeaders", ORDER_KEY, ORDER_COLUMNS)
    changed = {number for (_, number), row in after.items() if row != before[(_, number)]}
    assert confirmed <= changed  # confirmation rewrote the cached headers (new status, new etag)


def test_over_budget_the_cache_drops_texts_and_pages_stay_right(sales, tenant):
    cache, pages = tenant.sales.store.row_texts, tenant.sales.store.page_texts
    budgets = cache.budget, pages.budget, pages.served_budget
    try:
        cache.budget = pages.budget = pages.served_budget = 20_000  # a few dozen rows' text
        cache.clear()
        pages.clear()
        _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)
        _assert_sales_fresh(sales, tenant, "contacts", "contactid", CONTACT_COLUMNS)
        _served(sales, "accounts", {"$select": "name", "$orderby": "name"}, {"Prefer": "odata.maxpagesize=40"}, lambda row: row["accountid"])
        assert cache.size <= cache.budget and pages.size <= pages.budget
    finally:
        cache.budget, pages.budget, pages.served_budget = budgets


def test_both_services_report_their_own_time(sales, fno):
    """`server-timing: dur=<ms>` as F&O sends it (protocols.md 2.5); bench/page_cost.py reads it from both."""
    for response in (sales.get("accounts", params={"$select": "name"}), fno.get("CustomersV2", params={"cross-company": "true"})):
        assert response.status_code == 200
        match = re.fullmatch(r"dur=(\d+\.\d)", response.headers["server-timing"])
        assert match and 0 < float(match.group(1)) < 10_000


def test_pages_built_in_one_query_and_row_by_row_are_identical(sales, tenant):
    """A page never built is built with its pick in one query; a page built before only rebuilds rows it lacks
    (pages by offset, as `$orderby` reads them: pages read by key are stored whole)."""
    cache = tenant.sales.store.row_texts
    cache.clear()

    def bodies() -> list[bytes]:
        found, response = [], sales.get("accounts", params={"$select": ",".join(ACCOUNT_COLUMNS), "$orderby": "accountnumber"},
                                        headers={"Prefer": "odata.maxpagesize=40"})
        while True:
            assert response.status_code == 200, response.text
            found.append(response.content)
            next_link = response.json().get("@odata.nextLink")
            if next_link is None:
                return found
            response = sales.get(next_link, headers={"Prefer": "odata.maxpagesize=40"})

    tenant.configure(read_ahead=False)
    budget = cache.budget
    try:
        whole = bodies()  # every page new: built in one query each
        cache.budget = 2  # room for one small text: the page texts are dropped; the pages stay known as built
        assert cache.put("other shape", [("id", 1)], [b"{}"]) and cache.size == 2
        by_row = bodies()  # every page known: picked, then each row's text rebuilt
    finally:
        cache.budget = budget
        tenant.configure(read_ahead=True)
    assert len(whole) > 2 and by_row == whole


def test_a_page_is_served_again_as_it_was_only_until_a_write_commits(sales, tenant, account):
    """Pages are kept as served with the store's write generation: reads leave it, every committed write renews it."""
    store = tenant.sales.store
    generation = store.generation
    first = _sales_served(sales, "accounts", "accountid", ACCOUNT_COLUMNS)
    assert _sales_served(sales, "accounts", "accountid", ACCOUNT_COLUMNS) == first and store.generation == generation
    assert sales.patch(f"accounts({account})", json={"telephone1": "555-0177"}).status_code == 204
    assert store.generation > generation
    assert _assert_sales_fresh(sales, tenant, "accounts", "accountid", ACCOUNT_COLUMNS)[account]["telephone1"] == "555-0177"


@pytest.mark.parametrize("filter_text", [None, "statecode eq 0", "contains(name,'a')"])
def test_a_page_read_by_key_is_built_alike_by_key_range_and_by_pick(tenant, filter_text):
    """`cached_page` reads a page in key order by key range (`key_page`: its bound, then the rows up to it) or by
    picking rows and joining them (`rows`): the same body, rows picked and next-page keys, page after page, whether
    bounds are found alone, found for many pages at once, or stale and found again, and whether pages are built one
    at a time or in runs (`key_pages`) among pages stored before."""
    from emulate.dataverse import reads
    from emulate.odata.pages import cached_page, key_pages

    store, pages, runs = tenant.sales.store, {"pick": [], "range": [], "stale bounds": [], "runs": []}, []
    shape = ("accounts", ",".join(ACCOUNT_COLUMNS), None, None, filter_text, None, 7, 0)
    queries = {keyset: reads.page_queries(*shape, keyset) for keyset in (False, True)}  # first page, the pages after
    assert all(q.by_key for q in queries.values())
    try:
        for way in pages:
            for q in queries.values():
                q.__dict__["by_key"] = way != "pick"  # the path taken (a cached property)
            store.page_texts.clear()
            if way == "stale bounds":  # every bound known, and wrong: each page finds its own again
                store.page_texts.keep_hints(queries[True].chain, {None: "00000000-0000-0000-0000-000000000001",
                                                                  **{page.last: page.first for page in pages["pick"]}})
            if way == "runs":  # every third page stored before: runs of pages built in one query around them
                for n, page in enumerate(pages["range"][:-1]):
                    if n % 3 == 1:
                        key_pages(store, queries[True], [page.last])
            last = None
            while True:
                store.row_texts.clear()
                if way == "runs" and last is not None:
                    found = key_pages(store, queries[True], [last], 3)
                    runs.append(len(found))
                else:
                    found = [cached_page(store, queries[last is not None], [last] if last is not None else [])]
                pages[way] += found
                if found[-1].last is None:
                    break
                last = found[-1].last
    finally:
        for q in queries.values():
            del q.__dict__["by_key"]

    def served(found) -> list:
        return [(b",".join(page.rows), page.fetched, page.first, page.last) for page in found]
    assert len(pages["pick"]) > 2 and max(runs) == 3  # (a run stops before a scan's last page: its bound is not known)
    assert served(pages["range"]) == served(pages["pick"]) == served(pages["stale bounds"]) == served(pages["runs"])


def test_texts_over_budget_are_not_cached_and_the_first_stay():
    """A scan larger than the budget keeps the texts it cached first (a rescan finds them) rather than dropping its
    own shape and refilling it page after page; other shapes go first, least recently served first, but only for
    texts that then fit."""
    from emulate.json_cache import RowTextCache

    def unexpected(ids):
        raise AssertionError(f"rebuilt {ids}")

    cache = RowTextCache(budget=10)
    assert cache.put("older", [("x", 1)], [b"1"]) and cache.put("other", [("y", 1)], [b"22"])
    assert cache.put("scan", [("a", 1), ("b", 1)], [b"aaaa", b"bbbb"])  # 11 bytes in all: "older" goes
    assert cache.size == 10
    assert not cache.put("scan", [("c", 1)], [b"ccc"])  # no room even alone: not cached, and "other" stays
    assert cache.size == 10
    assert cache.page("scan", [("a", 1), ("b", 1)], unexpected) == ([b"aaaa", b"bbbb"], True)
    texts, kept = cache.page("scan", [("b", 2), ("c", 1)], lambda ids: [b"BBBB", b"ccc"])
    assert texts == [b"BBBB", b"ccc"] and not kept and cache.size == 4 + 2  # b's old text is gone with its version; "other" stays
