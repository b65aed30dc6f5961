"""Concurrent extraction against the emulated tenant over HTTPS: requests overlap across entities
and within a large F&O entity (key-ordered ranges), stay within the service's dop hint, land every
row exactly once, and a failure in one entity leaves it as it was."""

import math
import threading
import time

import duckdb
import pytest

from emulate.settings import FaultRule
from emulate.tenant import EmulatedTenant
from extract.auth import MsalAuth, build_msal_app
from extract.errors import ServiceError
from extract.http import make_client
from extract.odata import key_path
from extract.parallel import Gate, Parallelism
from extract.profile import PROJECT_DIR
from extract.progress import BarProgress, NoProgress, progress_for
from extract.registry import load_project_registry
from extract.retry import RetryPolicy
from extract.run import extract

ENTITIES = load_project_registry(PROJECT_DIR / "models")
ACCOUNTS, CONTACTS = ENTITIES[("sales", "accounts")], ENTITIES[("sales", "contacts")]
CURRENCIES = ENTITIES[("sales", "transactioncurrencies")]
LINES, CUSTOMERS = ENTITIES[("fno", "CDSSalesOrderLines")], ENTITIES[("fno", "CustomersV2")]
FAST = RetryPolicy(base_delay_s=0.01, max_delay_s=0.05, max_attempts=2)


class InFlight:
    """Counts the requests a client has sent and not yet had answered, and the most at once."""

    def __init__(self, client):
        self.now = self.peak = 0
        self.urls: list[str] = []
        self._lock = threading.Lock()
        client.event_hooks["request"].append(self.sent)
        client.event_hooks["response"].append(self.answered)

    def sent(self, request):
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            self.urls.append(str(request.url))

    def answered(self, response):
        with self._lock:
            self.now -= 1


@pytest.fixture
def tenant(tmp_path):
    with EmulatedTenant.start(tmp_path / "tenant", seed=5, fno_page_size=10) as tenant:
        yield tenant


@pytest.fixture
def clients(tenant):
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    made = {s: make_client(url, MsalAuth(app, url), ca_file=tenant.ca_file, retry=FAST)
            for s, url in (("sales", tenant.sales_url), ("fno", tenant.fno_url))}
    yield made
    for client in made.values():
        client.close()


def stored_keys(tenant, entity, companies):
    return sorted(tuple(r[k] for k in entity.key) for r in tenant.fno.rows(entity.entity_set) if r["dataAreaId"] in companies)


def keys(con, entity):
    cols = ", ".join(f'"{k}"' for k in entity.key)
    return con.execute(f'select {cols} from {entity.schema}."{entity.entity_set}" order by all').fetchall()


def test_a_large_fno_entity_is_read_as_concurrent_ranges_once_per_row(tenant, clients):
    tenant.configure(latency_ms=150)
    watched = InFlight(clients["fno"])
    stored = stored_keys(tenant, LINES, ("usmf", "demf"))
    with duckdb.connect() as con:
        summary, = extract(con, clients, [LINES], run_id=1, companies=["usmf", "demf"])
        assert keys(con, LINES) == stored
    assert summary.received == summary.new == len(stored)
    assert summary.requests == len(watched.urls) == math.ceil(len(stored) / 10) > 3
    assert watched.peak > 1  # ranges overlapped
    assert "%24count=true" in watched.urls[0] and all("%24skip=" in u for u in watched.urls[1:])
    ranges = sorted(watched.urls[1:], key=lambda u: int(u.split("%24skip=")[1].split("&")[0]))
    assert "%24top=10" not in ranges[-1] and all("%24top=10" in u for u in ranges[:-1])  # the last range is open-ended


def test_entities_are_read_concurrently_within_the_dop_hint(tenant, clients):
    tenant.configure(latency_ms=150, dop_hint=2)
    sales = InFlight(clients["sales"])
    fno = InFlight(clients["fno"])
    entities = [ACCOUNTS, CONTACTS, CURRENCIES, ENTITIES[("sales", "products")], CUSTOMERS, LINES]
    with duckdb.connect() as con:
        summaries = extract(con, clients, entities, run_id=1, companies=["usmf"], page_size=40,
                            parallelism=Parallelism(max_requests=6))
        landed = {e.label: con.execute(f'select count(*) from {e.schema}."{e.entity_set}"').fetchone()[0] for e in entities}
    assert [s.entity for s in summaries] == [e.label for e in entities]
    assert landed == {s.entity: s.received for s in summaries}
    assert landed["sales.accounts"] == len(tenant.sales.rows("accounts"))
    assert sales.peak == 2  # the service's hint, below the configured 6
    assert 1 < fno.peak <= 6  # F&O sends no hint: the configured bound


def test_one_failing_entity_leaves_its_raw_table_as_it_was_and_a_rerun_is_complete(tenant, clients):
    with duckdb.connect() as con:
        extract(con, clients, [LINES, ACCOUNTS], run_id=1, companies=["usmf"], page_size=50)
        before = con.execute('select * from raw_fno."CDSSalesOrderLines" order by all').fetchall()
        tenant.configure(faults=(FaultRule("500", service="fno", path="/CDSSalesOrderLines", nth=3, times=50),))
        with pytest.raises(ServiceError, match=r"^fno.CDSSalesOrderLines: HTTP 500"):
            extract(con, clients, [LINES, ACCOUNTS], run_id=2, companies=["usmf"], page_size=50, full_refresh=True)
        assert con.execute('select * from raw_fno."CDSSalesOrderLines" order by all').fetchall() == before
        assert con.execute("select count(*) from duckdb_tables() where database_name = 'p2c_spool'").fetchone() == (0,)
        tenant.configure(faults=())
        again = extract(con, clients, [LINES, ACCOUNTS], run_id=3, companies=["usmf"], page_size=50)
        assert [(s.new, s.changed, s.deleted) for s in again] == [(0, 0, 0), (0, 0, 0)]
        assert keys(con, LINES) == stored_keys(tenant, LINES, ("usmf",))


def test_progress_counts_every_landed_row_and_only_draws_on_a_terminal(tenant, clients):
    class Recorded(NoProgress):
        def __init__(self):
            self.rows, self.finished, self.lock = {}, {}, threading.Lock()

        def advance(self, entity, rows):
            with self.lock:
                self.rows[entity] = self.rows.get(entity, 0) + rows

        def finish(self, entity, rows):
            self.finished[entity] = rows

    recorded = Recorded()
    with duckdb.connect() as con:
        summaries = extract(con, clients, [ACCOUNTS, LINES], run_id=1, companies=["usmf"], page_size=30, progress=recorded)
    assert recorded.rows == recorded.finished == {s.entity: s.received for s in summaries}

    class Tty:
        def __init__(self, tty):
            self.tty, self.text = tty, []

        def isatty(self):
            return self.tty

        def write(self, text):
            self.text.append(text)

        def flush(self):
            pass

    assert isinstance(progress_for(Tty(False)), NoProgress)
    terminal = Tty(True)
    bar = progress_for(terminal)
    assert isinstance(bar, BarProgress)
    with bar:
        bar.start("sales.accounts")
        bar.advance("sales.accounts", 5000)
        time.sleep(0.15)
        bar.advance("sales.accounts", 5000)
        bar.finish("sales.accounts", 10000)
    assert "sales.accounts" in "".join(terminal.text) and "10,000 rows" in "".join(terminal.text)


def test_a_row_deleted_between_ranges_marks_no_live_row_deleted(tenant, clients):
    """A deletion while ranges are in flight shifts the later ``$skip`` offsets: a live row falls between
    two ranges. The keys received then differ from the first page's count, so nothing is marked deleted."""
    fno = clients["fno"]
    with duckdb.connect() as con:
        extract(con, clients, [LINES], run_id=1, companies=["usmf"])
        first, *_ = stored_keys(tenant, LINES, ("usmf",))  # in the first page: the read is key-ordered
        deleted = []

        def delete_after_first_page(response):
            if "%24count=true" in str(response.request.url) and not deleted:
                gone = fno.delete(f"/data/{key_path(LINES.entity_set, dict(zip(LINES.key, first)))}")
                assert gone.status_code == 204, gone.text
                deleted.append(first)

        fno.event_hooks["response"].append(delete_after_first_page)
        shifted, = extract(con, clients, [LINES], run_id=2, companies=["usmf"])
        fno.event_hooks["response"].remove(delete_after_first_page)
        assert deleted == [first]
        assert shifted.received == len(stored_keys(tenant, LINES, ("usmf",)))  # the deleted row read, a live one missed
        assert shifted.deleted == 0 and "not marked deleted" in shifted.warning
        assert con.execute('select count(*) from raw_fno."CDSSalesOrderLines" where _p2c_deleted').fetchone() == (0,)
        settled, = extract(con, clients, [LINES], run_id=3, companies=["usmf"])
        assert (settled.deleted, settled.warning) == (1, None)
        live = con.execute('select "dataAreaId", "SalesOrderNumber", "LineCreationSequenceNumber" '
                           'from raw_fno."CDSSalesOrderLines" where not _p2c_deleted order by all').fetchall()
        assert live == stored_keys(tenant, LINES, ("usmf",))


def test_the_gate_admits_the_highest_rank_first_and_the_earliest_among_equals():
    gate, admitted = Gate(lambda: 1), []

    def wait_for_slot(name, rank):
        with gate.slot(rank):
            admitted.append(name)

    with gate.slot():
        waiters = []
        for name, rank in (("new", (0, 0)), ("long entity", (500, 0)), ("chain under way", (0, 3)), ("newer", (0, 0))):
            waiters.append(threading.Thread(target=wait_for_slot, args=(name, rank)))
            waiters[-1].start()
            while gate.waiting < len(waiters):  # each one queued before the next arrives
                time.sleep(0.001)
    for waiter in waiters:
        waiter.join()
    assert admitted == ["long entity", "chain under way", "new", "newer"]


def test_a_full_read_of_the_largest_raw_table_goes_first(tenant, clients):
    """Its chain of nextLinks is likely the longest: started last, it would end last."""
    with duckdb.connect() as con:
        extract(con, clients, [CURRENCIES, ACCOUNTS], run_id=1, companies=[], page_size=20)
        watched = InFlight(clients["sales"])
        again = extract(con, clients, [CURRENCIES, ACCOUNTS], run_id=2, companies=[], page_size=20, full_refresh=True,
                        parallelism=Parallelism(max_requests=1))
    assert [s.entity for s in again] == ["sales.transactioncurrencies", "sales.accounts"]  # summaries in the order asked
    order = ["accounts" if "/accounts" in u else "currencies" for u in watched.urls]
    assert order == ["accounts"] * again[1].requests + ["currencies"] * again[0].requests


def test_a_first_load_failing_midway_leaves_nothing_and_a_rerun_lands_everything(tenant, clients):
    tenant.configure(faults=(FaultRule("500", service="fno", path="/CDSSalesOrderLines", nth=4, times=50),))
    with duckdb.connect() as con:
        with pytest.raises(ServiceError, match=r"^fno.CDSSalesOrderLines: HTTP 500"):
            extract(con, clients, [LINES], run_id=1, companies=["usmf"], parallelism=Parallelism(max_requests=1))
        assert con.execute('select count(*) from raw_fno."CDSSalesOrderLines"').fetchone() == (0,)
        assert con.execute('select count(*) from raw_fno."CDSSalesOrderLines__history"').fetchone() == (0,)
        tenant.configure(faults=())
        again, = extract(con, clients, [LINES], run_id=2, companies=["usmf"])
        assert again.new == len(stored_keys(tenant, LINES, ("usmf",)))
        assert keys(con, LINES) == stored_keys(tenant, LINES, ("usmf",))
