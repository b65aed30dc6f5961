"""The extract stage: read each entity set, page by page, and land it in ``raw_*``.

An entity read by ``change_tracking`` (registry) starts with a full read that asks for
change tracking; later extracts follow the deltaLink stored with the previous one
(``p2c_meta.sync_state``) and receive only what changed. A full read happens again when
the service rejects the stored token or ``full_refresh`` asks for it; the summary says why.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

import duckdb
import httpx

from extract.errors import ServiceError
from extract.land import LandResult, PageSpool, ensure_raw_tables, merge_into_raw
from extract.odata import FNO_API, SALES_API, key_literal, on_service, read_pages
from extract.registry import Entity
from extract.retry import RetryStats
from extract.runs import utcnow
from extract.sync_state import ensure_sync_state, save_delta_link, stored_delta_link

SALES_PAGE_SIZE = 5000  # the Web API's maximum (protocols.md 1.3)
TRACK_CHANGES = "odata.track-changes"
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

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class _Read:
    """One way to read an entity: where to start and whether absence means deletion."""

    url: str
    params: dict[str, str] | None
    headers: dict[str, str]
    full: bool


class _TokenRejected(Exception):
    def __init__(self, reason: str, requests: int) -> None:
        super().__init__(reason)
        self.reason, self.requests = reason, requests


def extract(
    con: duckdb.DuckDBPyConnection,
    clients: Mapping[str, httpx.Client],
    entities: Iterable[Entity],
    *,
    run_id: int,
    companies: Sequence[str],
    full_refresh: bool = False,
) -> list[EntitySummary]:
    """Extract every entity in turn; each one lands atomically or not at all."""
    return [
        extract_entity(con, clients[e.system], e, run_id=run_id, companies=companies, full_refresh=full_refresh)
        for e in entities
    ]


def extract_entity(
    con: duckdb.DuckDBPyConnection,
    client: httpx.Client,
    entity: Entity,
    *,
    run_id: int,
    companies: Sequence[str],
    page_size: int = SALES_PAGE_SIZE,
    full_refresh: bool = False,
) -> EntitySummary:
    started = time.perf_counter()
    extracted_at = utcnow()
    stats = RetryStats()
    ensure_raw_tables(con, entity)
    url, params, headers = first_request(entity, companies, page_size)
    full_read = _Read(url, params, headers, full=True)
    delta_link, reason = None, None
    if entity.change_tracked:
        ensure_sync_state(con)
        delta_link = stored_delta_link(con, entity.label)
        if delta_link is not None and full_refresh:
            delta_link, reason = None, "--full-refresh"
    rejected_requests = 0
    if delta_link is not None:
        delta = _Read(on_service(delta_link, client.base_url), None, headers, full=False)
        try:
            result, requests = _read_and_land(con, client, entity, delta, run_id=run_id, extracted_at=extracted_at, stats=stats)
            return _summary(entity, result, requests, started, "delta", None, stats)
        except _TokenRejected as rejected:
            reason, rejected_requests = rejected.reason, rejected.requests
    result, requests = _read_and_land(con, client, entity, full_read, run_id=run_id, extracted_at=extracted_at, stats=stats)
    return _summary(entity, result, requests + rejected_requests, started, "full", reason, stats)


def _read_and_land(
    con: duckdb.DuckDBPyConnection, client: httpx.Client, entity: Entity, read: _Read, *, run_id: int,
    extracted_at: datetime, stats: RetryStats,
) -> tuple[LandResult, int]:
    """Read every page into a spool, then merge it (and store the new deltaLink) in one transaction."""
    spool = PageSpool(con, entity, tracking=entity.change_tracked)
    try:
        try:
            requests = read_pages(client, read.url, params=read.params, headers=read.headers, on_page=spool.add,
                                  what=entity.label, stats=stats)
        except ServiceError as exc:
            if not read.full and delta_token_rejected(exc):
                detail = str(exc).removeprefix(f"{entity.label}: ")
                raise _TokenRejected(f"the stored delta token was rejected ({detail})", spool.pages + 1) from exc
            raise

        def store_link() -> None:
            save_delta_link(con, entity.label, spool.delta_link, run_id=run_id, updated_at=extracted_at)

        result = merge_into_raw(con, entity, spool, run_id=run_id, extracted_at=extracted_at, full_read=read.full,
                                before_commit=store_link if entity.change_tracked else None)
    finally:
        spool.close()
    return result, requests


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
