"""Read-ahead (emulate/read_ahead.py): the next page of a scan is built in the background, never served stale.

Each scan follows next links over HTTPS like a client; the worker's effect shows in its
`built` count and in the row-text cache (or, for pages read by key, the stored page bodies) filling
before the next page is asked for.
"""

import threading
import time

import pytest

from emulate.read_ahead import DEPTH, RUN, ReadAhead
from emulate.tenant import EmulatedTenant

ACCOUNT_PAGE = {"Prefer": "odata.maxpagesize=40"}
ACCOUNT_COLUMNS = "name,accountnumber,telephone1,creditlimit,description,statecode,modifiedon"
CUSTOMER_COLUMNS = "dataAreaId,CustomerAccount,SalesMemo,CreditLimit,IsExternallyMaintained"
WORKER = "emulate-read-ahead"


def scan(get, url: str, params: dict, headers: dict) -> list[bytes]:
    """Every page's body, following next links (`get(url_or_path, **kwargs)`: a client's, or a raw request's)."""
    bodies, response = [], get(url, params=params, headers=headers)
    while True:
        assert response.status_code == 200, response.text
        bodies.append(response.content)
        next_link = response.json().get("@odata.nextLink")
        if next_link is None:
            return bodies
        response = get(next_link, headers=headers)


def settled(*read_aheads) -> None:
    """Wait until the workers have nothing waiting or running."""
    deadline = time.monotonic() + 10
    while any(read_ahead.pending for read_ahead in read_aheads):
        assert time.monotonic() < deadline, "read-ahead did not settle"
        time.sleep(0.01)


def _scans(sales, fno) -> list[list[bytes]]:
    return [scan(sales.get, "accounts", {"$select": ACCOUNT_COLUMNS}, ACCOUNT_PAGE),
            scan(sales.get, "accounts", {"$select": ACCOUNT_COLUMNS, "$orderby": "name desc"}, ACCOUNT_PAGE),
            scan(fno.get, "CustomersV2", {"$select": CUSTOMER_COLUMNS, "cross-company": "true"}, {})]


@pytest.fixture
def cold(tenant):
    """A tenant with nothing cached and read-ahead back on afterwards."""
    tenant.sales.store.row_texts.clear()
    tenant.sales.store.page_texts.clear()
    yield tenant
    tenant.configure(read_ahead=True)


def test_on_and_off_serve_byte_identical_pages(sales, fno, cold):
    cold.configure(read_ahead=False)
    built = cold.sales.read_ahead.built, cold.fno.read_ahead.built
    off = _scans(sales, fno)
    assert (cold.sales.read_ahead.built, cold.fno.read_ahead.built) == built  # off does nothing in the background
    cold.sales.store.row_texts.clear()
    cold.sales.store.page_texts.clear()
    cold.configure(read_ahead=True)
    on = _scans(sales, fno)
    assert cold.sales.read_ahead.built > built[0] and cold.fno.read_ahead.built > built[1]
    assert [len(pages) for pages in on] == [len(pages) for pages in off] and min(map(len, on)) > 2
    for pages_on, pages_off in zip(on, off):
        assert pages_on == pages_off


def test_the_next_page_is_built_before_it_is_asked_for(sales, cold):
    first = sales.get("accounts", params={"$select": ACCOUNT_COLUMNS}, headers=ACCOUNT_PAGE)
    assert first.status_code == 200
    pages = cold.sales.store.page_texts
    served = pages.built
    settled(cold.sales.read_ahead)
    assert pages.built >= served + 2  # the second and third pages' bodies are built and stored too
    built = pages.built
    second = sales.get(first.json()["@odata.nextLink"], headers=ACCOUNT_PAGE)
    assert second.status_code == 200 and pages.built == built  # served as built ahead
    settled(cold.sales.read_ahead)
    assert len(second.json()["value"]) == 40


def test_a_scan_read_by_key_ramps_up_one_page_then_two(sales, cold):
    """The second page is built alone (its request comes one parse after the first's, and a request for a page of a
    run waits for the whole run), then the third and fourth together; later runs are `RUN` pages long."""
    pages, small_pages = cold.sales.store.page_texts, {"Prefer": "odata.maxpagesize=10"}
    assert sales.get("accounts/$count").json() > 10 * (1 + 3 + RUN)  # more pages than the first, the ramp and a run
    before = pages.built
    first = sales.get("accounts", params={"$select": ACCOUNT_COLUMNS}, headers=small_pages)
    assert first.status_code == 200
    settled(cold.sales.read_ahead)
    assert pages.built - before == 1 + 1 + 2  # the first page, then the ramp: page 2, then pages 3 and 4
    second = sales.get(first.json()["@odata.nextLink"], headers=small_pages)
    assert second.status_code == 200 and pages.built - before == 4  # built ahead: served as built
    settled(cold.sales.read_ahead)
    assert pages.built - before == 4 + RUN  # two pages built ahead of the one served: a whole run, pages 5 to 4 + RUN


def test_a_request_waits_for_a_run_that_builds_its_page():
    read_ahead = ReadAhead(lambda: True)
    gate, running, built, served = threading.Event(), threading.Event(), threading.Event(), []

    def run_of_pages() -> None:  # builds pages 1 and 2 of scan "s" in one go
        running.set()
        gate.wait(10)
        built.set()

    def request(page: int, run_built) -> None:
        read_ahead.settle("s", page, run_built)
        served.append((page, built.is_set()))

    try:
        assert read_ahead.schedule("s", 1, run_of_pages) and running.wait(5)
        started = time.monotonic()
        request(3, None)  # another page, no run to wait for: served at once
        assert time.monotonic() - started < 1
        waiter = threading.Thread(target=request, args=(2, built.is_set))
        waiter.start()
        time.sleep(0.1)
        assert served == [(3, False)]  # page 2 waits: the run being built holds it
        gate.set()
        waiter.join(5)
        assert served == [(3, False), (2, True)]
    finally:
        gate.set()
        read_ahead.stop()


def test_a_request_does_not_wait_for_the_jobs_after_the_run():
    """The run ends without the page (a write since, or the page let go): the request builds it itself rather
    than wait through the next job of the scan, which the run queued."""
    read_ahead = ReadAhead(lambda: True)
    running, next_started, gate = threading.Event(), threading.Event(), threading.Event()

    def next_run() -> None:
        next_started.set()
        gate.wait(10)

    def run_queuing_the_next() -> None:
        running.set()
        time.sleep(0.1)
        read_ahead.schedule("s", 5, next_run)

    try:
        assert read_ahead.schedule("s", 1, run_queuing_the_next) and running.wait(5)
        started = time.monotonic()
        read_ahead.settle("s", 2, lambda: False)  # its page never gets built
        assert time.monotonic() - started < 1 and next_started.wait(5)
    finally:
        gate.set()
        read_ahead.stop()


def test_a_write_between_pages_is_served(sales, fno, cold):
    first = sales.get("accounts", params={"$select": ACCOUNT_COLUMNS}, headers=ACCOUNT_PAGE).json()
    other_shape = sales.get(first["@odata.nextLink"].replace(ACCOUNT_COLUMNS.replace(",", "%2C"), "name"), headers=ACCOUNT_PAGE)
    target = other_shape.json()["value"][5]["accountid"]  # a row of page two, found without reading page two's shape
    settled(cold.sales.read_ahead)  # page two's texts are cached at the rows' old versions
    assert sales.patch(f"accounts({target})", json={"telephone1": "555-0199", "name": "Written between pages"}).status_code == 204
    second = {row["accountid"]: row for row in sales.get(first["@odata.nextLink"], headers=ACCOUNT_PAGE).json()["value"]}
    stored = {row["accountid"]: row for row in cold.sales.rows("accounts")}
    assert second[target]["telephone1"] == "555-0199" and second[target]["name"] == "Written between pages"
    assert second[target]["@odata.etag"] == f'W/"{stored[target]["versionnumber"]}"'

    page = fno.get("CustomersV2", params={"$select": CUSTOMER_COLUMNS, "cross-company": "true"})
    next_link = page.json()["@odata.nextLink"]
    customer = fno.get(next_link.replace(CUSTOMER_COLUMNS.replace(",", "%2C"), "dataAreaId%2CCustomerAccount")).json()["value"][1]
    settled(cold.fno.read_ahead)
    url = f"CustomersV2(dataAreaId='{customer['dataAreaId']}',CustomerAccount='{customer['CustomerAccount']}')"
    assert fno.patch(url, params={"cross-company": "true"}, json={"SalesMemo": "written between pages"}).status_code == 204
    rows = fno.get(next_link).json()["value"]
    assert [r["SalesMemo"] for r in rows if r["CustomerAccount"] == customer["CustomerAccount"]] == ["written between pages"]


def test_the_worker_stays_bounded(sales, cold):
    gate, running = threading.Event(), threading.Event()

    def blocked() -> None:
        running.set()
        gate.wait(10)

    assert cold.sales.read_ahead.schedule("gate", 1, blocked)
    assert running.wait(5)
    workers = sum(thread.name == WORKER for thread in threading.enumerate())
    try:
        for column in ("name", "accountnumber", "telephone1", "description", "creditlimit", "statecode"):
            assert sales.get("accounts", params={"$select": column}, headers=ACCOUNT_PAGE).status_code == 200
            assert cold.sales.read_ahead.pending <= DEPTH + 1  # the page being built and at most DEPTH waiting
        assert cold.sales.read_ahead.pending == DEPTH + 1
    finally:
        gate.set()
    settled(cold.sales.read_ahead)
    assert sum(thread.name == WORKER for thread in threading.enumerate()) == workers  # still one worker per service


def test_stop_with_read_ahead_in_flight_is_clean(state_dir, client_for, token_for):
    workers = sum(thread.name == WORKER for thread in threading.enumerate())
    tenant = EmulatedTenant.start(state_dir, scale=1)
    started, finished = threading.Event(), []

    def slow_read() -> None:
        started.set()
        time.sleep(0.3)
        finished.append(len(tenant.sales.rows("accounts")))  # the store is still open

    with client_for(tenant) as client:
        token = token_for(tenant, client, tenant.sales_url)
        page = client.get(f"{tenant.sales_url}/api/data/v9.2/accounts", params={"$select": ACCOUNT_COLUMNS},
                          headers={"Authorization": f"Bearer {token}", **ACCOUNT_PAGE})
        assert page.status_code == 200 and "@odata.nextLink" in page.json()
    assert tenant.sales.read_ahead.schedule("in flight", 1, slow_read)
    assert started.wait(5)
    tenant.stop()
    assert finished and finished[0] > 0
    assert sum(thread.name == WORKER for thread in threading.enumerate()) == workers  # its workers have ended
    assert not tenant.sales.read_ahead.schedule("after stop", 1, slow_read)
    assert tenant.sales.read_ahead.pending == 0
    with EmulatedTenant.start(state_dir) as reopened:  # the state file was closed cleanly
        assert len(reopened.sales.rows("accounts")) == finished[0]
