"""Start-up warm-up (emulate/warm_up.py): a reopened tenant builds the first pages it served before, never stale.

Each test serves scans over HTTPS, stops the tenant, reopens its state directory and reads
the warm-up's effect in the read-ahead workers' `warmed` counts, the row-text cache and the
stored page bodies, then compares what is served with the store.
"""

from contextlib import contextmanager

import pytest

from emulate import warm_up
from emulate.settings import EmulatorSettings
from emulate.tenant import EmulatedTenant
from tests.emulate.test_read_ahead import settled

ACCOUNT_COLUMNS = "name,accountnumber,telephone1,creditlimit,description,statecode,modifiedon"
ACCOUNT_PAGE = {"Prefer": "odata.maxpagesize=40"}
CUSTOMER_COLUMNS = "dataAreaId,CustomerAccount,SalesMemo,CreditLimit,IsExternallyMaintained"


@contextmanager
def _clients(tenant, client_for, token_for):
    """(Dataverse, F&O) request functions with valid tokens: `get(path, **kwargs)`."""
    with client_for(tenant) as client:
        def service(origin: str, root: str):
            headers = {"Authorization": f"Bearer {token_for(tenant, client, origin)}"}
            return lambda method, path, **kwargs: client.request(method, f"{origin}{root}{path}",
                                                                 headers={**headers, **kwargs.pop("headers", {})}, **kwargs)
        yield service(tenant.sales_url, "/api/data/v9.2/"), service(tenant.fno_url, "/data/")


def _first_pages(sales, fno) -> tuple[list, list]:
    """The `value` of an accounts first page and a CustomersV2 first page."""
    accounts = sales("GET", "accounts", params={"$select": ACCOUNT_COLUMNS}, headers=ACCOUNT_PAGE)
    customers = fno("GET", "CustomersV2", params={"$select": CUSTOMER_COLUMNS, "cross-company": "true"})
    assert accounts.status_code == 200 and customers.status_code == 200
    assert "@odata.nextLink" in accounts.json() and "@odata.nextLink" in customers.json()
    return accounts.json()["value"], customers.json()["value"]


@pytest.fixture
def served(state_dir, client_for, token_for):
    """A state directory whose tenant served both first pages before it stopped: (accounts, customers) as served."""
    with EmulatedTenant.start(state_dir, scale=1, fno_page_size=5) as tenant, \
            _clients(tenant, client_for, token_for) as (sales, fno):
        pages = _first_pages(sales, fno)
    assert (state_dir / warm_up.FILE).exists()
    return pages


def test_a_reopened_tenant_builds_the_first_pages_it_served(state_dir, served, client_for, token_for):
    with EmulatedTenant.start(state_dir, fno_page_size=5) as tenant:
        settled(tenant.sales.read_ahead, tenant.fno.read_ahead)
        assert tenant.sales.read_ahead.warmed == 1 and tenant.fno.read_ahead.warmed == 1
        warmed = tenant.sales.store.row_texts.size
        assert warmed > 0  # built before any request
        assert tenant.sales.store.page_texts.reused >= 1  # the accounts page, read by key: its body stored before the stop
        with _clients(tenant, client_for, token_for) as (sales, fno):
            assert _first_pages(sales, fno) == served
            settled(tenant.sales.read_ahead, tenant.fno.read_ahead)
    with EmulatedTenant.start(state_dir, fno_page_size=5) as again:  # remembered again at the second stop
        settled(again.sales.read_ahead, again.fno.read_ahead)
        assert again.sales.read_ahead.warmed == 1 and again.fno.read_ahead.warmed == 1


def test_a_write_after_the_warm_up_is_served(state_dir, served, client_for, token_for):
    accounts, customers = served
    target, customer = accounts[3]["accountid"], customers[2]
    with EmulatedTenant.start(state_dir, fno_page_size=5) as tenant, \
            _clients(tenant, client_for, token_for) as (sales, fno):
        settled(tenant.sales.read_ahead, tenant.fno.read_ahead)
        assert sales("PATCH", f"accounts({target})", json={"telephone1": "555-0142"}).status_code == 204
        key = f"CustomersV2(dataAreaId='{customer['dataAreaId']}',CustomerAccount='{customer['CustomerAccount']}')"
        assert fno("PATCH", key, params={"cross-company": "true"}, json={"SalesMemo": "after warm-up"}).status_code == 204
        accounts_now, customers_now = _first_pages(sales, fno)
        stored = {row["accountid"]: row for row in tenant.sales.rows("accounts")}
    row = next(r for r in accounts_now if r["accountid"] == target)
    assert row["telephone1"] == "555-0142" and row["@odata.etag"] == f'W/"{stored[target]["versionnumber"]}"'
    assert row["@odata.etag"] != next(r for r in accounts if r["accountid"] == target)["@odata.etag"]
    assert [r["SalesMemo"] for r in customers_now if r["CustomerAccount"] == customer["CustomerAccount"]
            and r["dataAreaId"] == customer["dataAreaId"]] == ["after warm-up"]
    unchanged = [r for r in accounts_now if r["accountid"] != target]
    assert unchanged == [r for r in accounts if r["accountid"] != target]


def test_no_warm_up_with_read_ahead_off(state_dir, served):
    with EmulatedTenant.start(state_dir, settings=EmulatorSettings(read_ahead=False)) as tenant:
        assert tenant.sales.read_ahead.pending == 0 and tenant.fno.read_ahead.pending == 0
        assert tenant.sales.read_ahead.warmed == 0 and tenant.sales.store.row_texts.size == 0


@pytest.mark.parametrize("text", ["not json", '["a list"]', '{"sales": [["accounts", ["nested"]], 7], "fno": {"a": 1}}',
                                  '{"sales": [["no_such_set", null, null, null, null, null, 40]], '
                                                             '"fno": [["CustomersV2", "NoSuchColumn", null, null, true, 5]]}'])
def test_a_bad_memory_file_warms_nothing_and_serves(state_dir, served, client_for, token_for, text):
    (state_dir / warm_up.FILE).write_text(text)
    with EmulatedTenant.start(state_dir, fno_page_size=5) as tenant, \
            _clients(tenant, client_for, token_for) as (sales, fno):
        settled(tenant.sales.read_ahead, tenant.fno.read_ahead)
        assert tenant.sales.store.row_texts.size == 0
        assert _first_pages(sales, fno) == served
