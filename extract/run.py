"""The extract stage: read each entity set, page by page, and land it in ``raw_*``.

An entity read by ``change_tracking`` (registry) starts with a full read that asks for
change tracking; later extracts follow the deltaLink stored with the previous one
(``p2c_meta.sync_state``) and receive only what changed. A full read happens again when
the service rejects the stored token or ``full_refresh`` asks for it; the summary says why.

Entities are read concurrently, and a large F&O entity as key-ordered ranges read at once
(extract/parallel.py bounds the requests in flight per service). Worker threads fetch; parser
threads cut each page's rows out of its body into a page file (extract/land.py) while the next
page is in flight; this thread merges each entity once all its pages are in (DuckDB parses the
page files then, all at once), one transaction per entity.

A service's requests queue at its gate (extract/parallel.py) ranked by the rows the entity's raw
table held before (a full read of a large table is a long chain of nextLinks: it goes first),
then by the pages its chain has already fetched; a chain keeps its place at the gate from one
page to the next. On a first read of Sales tables (raw tables missing or empty) nothing says how
long each chain is, so one ``RetrieveTotalRecordCount`` request asks the service first (its counts
are a periodic snapshot: good enough for an order; its answer also brings the dop hint that the
gate waits for before a second request goes out). The staging tables are created while the first
pages travel.
A ranged F&O read checks the distinct keys it received against the first page's
``@odata.count`` before marking absent rows deleted.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import httpx

from extract.errors import ExtractError, PageError, ServiceError
from extract.http import send
from extract.land import LandResult, PageSpool, attach_spool, ensure_all_raw_tables, merge_into_raw
from extract.odata import (FNO_API, SALES_API, key_literal, on_service, read_record_counts, record_count_path,
                           sales_logical_name, tail_next_link)
from extract.parallel import Gate, Parallelism, Place, service_limit
from extract.progress import NoProgress, Progress, wants_rows
from extract.registry import Entity
from extract.retry import RetryStats
from extract.runs import utcnow
from extract.sync_state import ensure_sync_state, save_delta_link, stored_delta_links

SALES_PAGE_SIZE = 5000  # the Web API's maximum (protocols.md 1.3)
TRACK_CHANGES = "odata.track-changes"
EXTRACT_MEMORY_LIMIT = "256MB"  # DuckDB's share while extracting: the spool and merges spill past it (500 MB peak target)
PARSER_THREADS = 2  # pages spooled at once, beside the requests in flight
MAX_UNPARSED_PAGES = 4  # pages received and waiting for a parser: bounds memory (a Sales page is ~4 MB)
EXPIRED_VERSION_STAMP = "0x80044352"  # the service no longer holds the changes since the token (protocols.md 1.4)


@dataclass(frozen=True)
class EntitySummary:
    entity: str
    received: int
    new: int
    changed: int
    deleted: int
    requests: int
    seconds: float
    read: str = "full"  # "full" or "delta"
    full_reread_reason: str | None = None  # why a stored delta token was not followed
    retries: int = 0  # requests sent again after a 429, a 5xx or a dropped connection
    seconds_throttled: float = 0.0  # time spent waiting out Retry-After
    warning: str | None = None  # something the operator should know, e.g. why absent rows were not marked deleted

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Read:
    """One way to read an entity: where to start and whether absence means deletion."""

    url: str
    params: dict[str, str] | None
    headers: dict[str, str]
    full: bool


def extract(
    con: duckdb.DuckDBPyConnection,
    clients: Mapping[str, httpx.Client],
    entities: Iterable[Entity],
    *,
    run_id: int,
    companies: Sequence[str],
    full_refresh: bool = False,
    page_size: int = SALES_PAGE_SIZE,
    parallelism: Parallelism | None = None,
    progress: Progress | None = None,
) -> list[EntitySummary]:
    """Extract the entities concurrently; each one lands atomically or not at all.

    Requests run on worker threads (bounded per service, see extract/parallel.py); pages
    are spooled on those threads (and parsed by DuckDB at the merge); merges run here,
    on the caller's connection, one transaction per entity, while other entities are still
    being fetched. The first failure stops the rest: entities merged before it stay, the
    others are left as they were.
    """
    entities = list(entities)
    reading = _Extraction(con, clients, run_id=run_id, companies=companies, full_refresh=full_refresh,
                          page_size=page_size, parallelism=parallelism or Parallelism(),
                          progress=progress or NoProgress(), systems={e.system for e in entities})
    return reading.run(entities)


def extract_entity(
    con: duckdb.DuckDBPyConnection,
    client: httpx.Client,
    entity: Entity,
    *,
    run_id: int,
    companies: Sequence[str],
    page_size: int = SALES_PAGE_SIZE,
    full_refresh: bool = False,
    parallelism: Parallelism | None = None,
) -> EntitySummary:
    """Extract one entity through ``client``."""
    return extract(con, {entity.system: client}, [entity], run_id=run_id, companies=companies,
                   page_size=page_size, full_refresh=full_refresh, parallelism=parallelism)[0]


@dataclass(frozen=True)
class _Stream:
    """One chain of pages: a first request and the nextLinks after it. ``split`` asks for
    ``$count`` so the rest of the entity can be read as concurrent ranges."""

    url: str
    params: dict[str, str] | None
    split: bool = False


class _Stopped(Exception):
    """Another entity failed: this one stops between pages."""


class _Job:
    """One entity being read: its spool, its streams still running, and what they cost."""

    def __init__(self, entity: Entity, read: _Read, spool: PageSpool, stats: RetryStats, *, reason: str | None,
                 earlier_requests: int, started: float, extracted_at: datetime) -> None:
        self.entity, self.read, self.spool, self.stats = entity, read, spool, stats
        self.reason, self.earlier_requests = reason, earlier_requests
        self.started, self.extracted_at = started, extracted_at
        self.requests = 0
        self.expected_rows = 0  # rows a full read is expected to return (raw's size or the service's count): the gate's rank
        self.expected_keys: int | None = None  # a ranged read's @odata.count, checked at the merge
        self.running = 0
        self.error: BaseException | None = None
        self.lock = threading.Lock()


class _Extraction:
    def __init__(self, con: duckdb.DuckDBPyConnection, clients: Mapping[str, httpx.Client], *, run_id: int,
                 companies: Sequence[str], full_refresh: bool, page_size: int, parallelism: Parallelism,
                 progress: Progress, systems: set[str]) -> None:
        self.con, self.clients, self.run_id, self.companies = con, clients, run_id, tuple(companies)
        self.full_refresh, self.page_size, self.parallelism, self.progress = full_refresh, page_size, parallelism, progress
        self.events: queue.Queue[_Job] = queue.Queue()
        self.stop = threading.Event()
        self.pools = {s: ThreadPoolExecutor(parallelism.workers, thread_name_prefix=f"p2c-{s}") for s in sorted(systems)}
        self.gates = {s: Gate(service_limit(parallelism, getattr(clients[s], "stats", None))) for s in sorted(systems)}
        self.parsers = ThreadPoolExecutor(PARSER_THREADS, thread_name_prefix="p2c-parse")
        self.unparsed = threading.Semaphore(MAX_UNPARSED_PAGES)
        attach_spool(con)
        self.spools: list[PageSpool] = []
        self.expected_rows: dict[str, int] = {}  # label -> rows a full read is expected to return (the gate's rank)
        self.delta_links: dict[str, str] = {}  # entity label -> the deltaLink stored by the last extract
        self.cursors: queue.Queue[duckdb.DuckDBPyConnection] = queue.Queue()
        for _ in range(parallelism.workers * len(systems) + PARSER_THREADS):  # one per thread, made here: con is not shared
            self.cursors.put(con.cursor())

    def run(self, entities: list[Entity]) -> list[EntitySummary]:
        summaries: dict[str, EntitySummary] = {}
        failure: BaseException | None = None
        outstanding = 0
        memory_limit, ordered = self.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('preserve_insertion_order')").fetchone()
        self.con.execute("SET memory_limit = ?", [EXTRACT_MEMORY_LIMIT])  # DuckDB spills to disk beyond it
        self.con.execute("SET preserve_insertion_order = false")  # raw rows have no order: pages parse on every core
        try:
            held = estimated_raw_rows(self.con)
            counting = self._ask_record_counts(entities, held)
            self.delta_links = stored_delta_links(self.con)
            self.expected_rows = {e.label: held.get((e.schema, e.entity_set), 0) for e in entities}
            for counted in (False, True):  # the services whose order needs no Sales count first, longest first
                if counted and counting is not None:
                    for label, count in counting.result().items():
                        self.expected_rows[label] = max(self.expected_rows[label], count)
                for entity in sorted(entities, key=lambda e: -self.expected_rows[e.label]):
                    if (entity.system == "sales") == counted:
                        self._begin(entity)
                        outstanding += 1
            self._prepare(entities)  # while the first pages travel: nothing is merged before it
            while outstanding:
                job = self._next_finished()
                if job.error is None and failure is None:
                    summaries[job.entity.label] = self._merge(job)
                elif failure is None and not job.read.full and isinstance(job.error, ServiceError) \
                        and delta_token_rejected(job.error):
                    detail = str(job.error).removeprefix(f"{job.entity.label}: ")
                    job.spool.close()
                    self._begin(job.entity, reason=f"the stored delta token was rejected ({detail})", after=job)
                    continue
                elif failure is None:
                    failure = job.error
                    self.stop.set()
                job.spool.close()
                outstanding -= 1
        finally:
            self.stop.set()
            for pool in (*self.pools.values(), self.parsers):
                pool.shutdown(wait=True, cancel_futures=True)
            while not self.cursors.empty():
                self.cursors.get().close()
            for spool in self.spools:  # those of entities an error left behind (closing twice is harmless)
                spool.close()
            self.con.execute("SET memory_limit = ?", [memory_limit])
            self.con.execute("SET preserve_insertion_order = ?", [ordered])
        if failure is not None:
            raise failure
        return [summaries[e.label] for e in entities]

    def _next_finished(self) -> _Job:
        while True:  # a timeout keeps Ctrl+C deliverable to this thread
            try:
                return self.events.get(timeout=0.2)
            except queue.Empty:
                continue

    def _prepare(self, entities: list[Entity]) -> None:
        """Create every raw, history and sync-state table in one transaction (one commit, not dozens)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            ensure_all_raw_tables(self.con, entities)
            ensure_sync_state(self.con)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise

    def _ask_record_counts(self, entities: list[Entity], held: Mapping[tuple[str, str], int]) -> Future | None:
        """Ask Sales, on a worker, for the record counts of the tables read for the first time here
        (raw table missing or empty in ``held``): the length of their chains, to start the longest
        first. One entity alone has no order to choose: nothing is asked then."""
        if sum(e.system == "sales" for e in entities) < 2:
            return None
        names = {sales_logical_name(e.key[0]): e.label for e in entities
                 if e.system == "sales" and len(e.key) == 1 and not held.get((e.schema, e.entity_set))}
        names.pop(None, None)
        return self.pools["sales"].submit(self._record_counts, names) if names else None

    def _record_counts(self, names: dict[str, str]) -> dict[str, int]:
        """Entity label -> the service's record count, from one request; {} when the service does not
        answer it (the counts only order the reads: the reads themselves say what is wrong)."""
        try:
            with self.gates["sales"].slot():  # the first request: its answer carries the dop hint
                response = send(self.clients["sales"], "GET", record_count_path(names), what="sales record counts")
            counts = read_record_counts(response.content)
        except (ExtractError, ValueError):
            return {}
        return {names[name]: count for name, count in counts.items() if name in names}

    def _begin(self, entity: Entity, *, reason: str | None = None, after: _Job | None = None) -> None:
        """Choose how to read ``entity`` (delta or full), make its spool and start its first stream."""
        url, params, headers = first_request(entity, self.companies, self.page_size)
        read, split = _Read(url, params, headers, full=True), entity.system == "fno" and self.parallelism.split_fno
        if entity.change_tracked and after is None:
            link = self.delta_links.get(entity.label)
            if link is not None and self.full_refresh:
                reason = "--full-refresh"
            elif link is not None:
                read = _Read(on_service(link, self.clients[entity.system].base_url), None, headers, full=False)
        if read.full and split:
            read = _Read(url, {**params, **ranged_options(entity)}, headers, full=True)
        self.spools.append(PageSpool(self.con, entity, tracking=entity.change_tracked, full_read=read.full,
                                     count_rows=wants_rows(self.progress)))
        job = _Job(entity, read, self.spools[-1],
                   after.stats if after else RetryStats(), reason=reason,
                   earlier_requests=after.requests if after else 0,
                   started=after.started if after else time.perf_counter(),
                   extracted_at=after.extracted_at if after else utcnow())
        job.expected_rows = self.expected_rows.get(entity.label, 0) if read.full else 0  # a delta is short
        if after is None:
            self.progress.start(entity.label)
        self._submit(job, _Stream(read.url, read.params, split=read.full and split))

    def _submit(self, job: _Job, stream: _Stream) -> None:
        with job.lock:
            job.running += 1
        self.pools[job.entity.system].submit(self._read_stream, job, stream)

    def _read_stream(self, job: _Job, stream: _Stream) -> None:
        """Worker thread: fetch one chain of pages into the entity's spool."""
        cursor = self.cursors.get()
        try:
            self._fetch(job, stream, cursor)
        except BaseException as exc:  # handed to the merging thread, never lost with the worker
            with job.lock:
                if job.error is None or isinstance(job.error, _Stopped):
                    job.error = exc
        finally:
            self.cursors.put(cursor)
            with job.lock:
                job.running -= 1
                done = job.running == 0
            if done:
                self.events.put(job)

    def _fetch(self, job: _Job, stream: _Stream, cursor: duckdb.DuckDBPyConnection) -> None:
        """Ask for each page as soon as the previous one's nextLink is known: read from the body's
        end when it is there, so DuckDB parses a page (on a parser thread) while the next one travels."""
        client, place, what = self.clients[job.entity.system], Place(self.gates[job.entity.system]), job.entity.label
        seen: set[str] = set()
        parsing: list[Future] = []
        url, params, split = stream.url, stream.params, stream.split
        fetched = 0
        try:
            while url is not None:
                if self.stop.is_set() or job.error is not None:
                    raise _Stopped(what)
                with job.lock:
                    job.requests += 1
                number = job.spool.number()
                with place.request((job.expected_rows, fetched)):
                    response = send(client, "GET", url, params=params, headers=job.read.headers, what=what, stats=job.stats)
                fetched += 1
                link = None if split else tail_next_link(response.content)
                if link is not None:
                    self._hold_unparsed()
                    parsing.append(self.parsers.submit(self._parse, job, response.content, number, link))
                else:  # the link (or the count) is known only once the page is parsed
                    page = job.spool.add_page(response.content, cursor, number, exact=split)
                    self.progress.advance(what, page.rows)
                    link = page.next_link
                    if split and page.count is not None:
                        job.expected_keys = page.count
                    if split and link is not None and page.count is not None and page.rows > 0:
                        for ranged in range_streams(url, params, page.rows, page.count):
                            self._submit(job, ranged)
                        break
                if link is not None and link in seen:
                    raise PageError(f"{what}: the service repeated a nextLink ({link[:120]}); stopping instead of looping")
                if link is not None:
                    seen.add(link)
                url, params, split = link, None, False
        finally:
            place.release()
            wait(parsing)  # nothing may still write to the spool once the stream reports
        for parsed in parsing:
            parsed.result()

    def _hold_unparsed(self) -> None:
        """Bound the pages waiting for a parser (memory); give up the wait if the extract stops."""
        while not self.unparsed.acquire(timeout=0.2):
            if self.stop.is_set():
                raise _Stopped("stopping")

    def _parse(self, job: _Job, body: bytes, number: int, link: str) -> None:
        cursor = self.cursors.get()
        try:
            page = job.spool.add_page(body, cursor, number)
            if page.next_link != link:
                raise PageError(f"{job.entity.label}: page {number} ends with a nextLink its parsed body does not carry")
            self.progress.advance(job.entity.label, page.rows)
        except BaseException as exc:
            with job.lock:  # the entity's streams stop asking for more pages
                if job.error is None or isinstance(job.error, _Stopped):
                    job.error = exc
            raise
        finally:
            self.cursors.put(cursor)
            self.unparsed.release()

    def _merge(self, job: _Job) -> EntitySummary:
        entity = job.entity

        def store_link() -> None:
            save_delta_link(self.con, entity.label, job.spool.delta_link, run_id=self.run_id, updated_at=job.extracted_at)

        result = merge_into_raw(self.con, entity, job.spool, run_id=self.run_id, extracted_at=job.extracted_at,
                                full_read=job.read.full, expected_keys=job.expected_keys,
                                before_commit=store_link if entity.change_tracked else None)
        summary = _summary(entity, result, job.requests + job.earlier_requests, job.started,
                           "full" if job.read.full else "delta", job.reason, job.stats)
        self.progress.finish(entity.label, summary.received)
        return summary


def estimated_raw_rows(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """(schema, table) -> DuckDB's estimate of its rows, for every table of the staging file, from
    the catalog alone (no scan, no table created): how long a full read's chain is, roughly, and
    whether a raw table is missing or empty."""
    return {(schema, name): rows for schema, name, rows in con.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE database_name = current_database()").fetchall()}


def ranged_options(entity: Entity) -> dict[str, str]:
    """Options that let an F&O read be split: the total count and a stable, key-ordered sequence."""
    return {"$count": "true", "$orderby": ",".join(f"{k} asc" for k in entity.key)}


def range_streams(url: str, params: Mapping[str, str] | None, page_rows: int, total: int) -> list[_Stream]:
    """The rest of a key-ordered read after its first page, as one request per page.

    Each range but the last asks ``$skip=s&$top=page_rows``; the last has no ``$top`` and
    follows nextLinks, so rows added since the count are still read. These are the offsets
    the service's own nextLinks would carry (F&O pages by ``$skip``, protocols.md 2.2).
    """
    base = {k: v for k, v in (params or {}).items() if k not in ("$count", "$skip", "$top")}
    starts = list(range(page_rows, max(total, page_rows + 1), page_rows))
    return [_Stream(url, {**base, "$skip": str(s), **({"$top": str(page_rows)} if s != starts[-1] else {})})
            for s in starts]


def delta_token_rejected(exc: ServiceError) -> bool:
    """A 4xx to a deltaLink saying the changes since the token are gone (protocols.md 1.4)."""
    return (exc.status is not None and 400 <= exc.status < 500
            and (exc.code.lower() == EXPIRED_VERSION_STAMP or "version stamp" in str(exc).lower()))


def _summary(entity: Entity, result: LandResult, requests: int, started: float, read: str, reason: str | None,
             stats: RetryStats) -> EntitySummary:
    """``requests`` counts pages asked for; retries of them are counted apart."""
    return EntitySummary(
        entity=entity.label,
        received=result.received,
        new=result.new,
        changed=result.changed,
        deleted=result.deleted,
        requests=requests,
        seconds=round(time.perf_counter() - started, 3),
        read=read,
        full_reread_reason=reason,
        retries=stats.retries,
        seconds_throttled=round(stats.seconds_throttled, 3),
        warning=result.warning,
    )


def first_request(
    entity: Entity, companies: Sequence[str], page_size: int = SALES_PAGE_SIZE
) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL, query options and headers of an entity's first page (``page_size`` asks Dataverse; F&O sets its own)."""
    select = ",".join(entity.column_names)
    if entity.system == "sales":
        prefer = f"{TRACK_CHANGES},odata.maxpagesize={page_size}" if entity.change_tracked else f"odata.maxpagesize={page_size}"
        return f"{SALES_API}{entity.entity_set}", {"$select": select}, {"Prefer": prefer}
    params = {"$select": select, "cross-company": "true"}
    if "dataAreaId" in entity.column_names and companies:
        params["$filter"] = " or ".join(f"dataAreaId eq {key_literal(c)}" for c in companies)
    return f"{FNO_API}{entity.entity_set}", params, {}
