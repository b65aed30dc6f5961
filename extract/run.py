"""The extract stage: read each entity set fully, page by page, and land it in ``raw_*``."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass

import duckdb
import httpx

from extract.land import PageSpool, ensure_raw_tables, merge_into_raw
from extract.odata import key_literal, read_pages
from extract.registry import Entity
from extract.runs import utcnow

SALES_API = "/api/data/v9.2/"
FNO_API = "/data/"
SALES_PAGE_SIZE = 5000  # the Web API's maximum (protocols.md 1.3)


@dataclass(frozen=True)
class EntitySummary:
    entity: str
    received: int
    new: int
    changed: int
    deleted: int
    requests: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def extract(
    con: duckdb.DuckDBPyConnection,
    clients: Mapping[str, httpx.Client],
    entities: Iterable[Entity],
    *,
    run_id: int,
    companies: Sequence[str],
) -> list[EntitySummary]:
    """Extract every entity in turn; each one lands atomically or not at all."""
    return [extract_entity(con, clients[e.system], e, run_id=run_id, companies=companies) for e in entities]


def extract_entity(
    con: duckdb.DuckDBPyConnection,
    client: httpx.Client,
    entity: Entity,
    *,
    run_id: int,
    companies: Sequence[str],
    page_size: int = SALES_PAGE_SIZE,
) -> EntitySummary:
    started = time.perf_counter()
    extracted_at = utcnow()
    ensure_raw_tables(con, entity)
    url, params, headers = first_request(entity, companies, page_size)
    spool = PageSpool(con, entity)
    try:
        requests = read_pages(client, url, params=params, headers=headers, on_page=spool.add, what=entity.label)
        result = merge_into_raw(con, entity, spool, run_id=run_id, extracted_at=extracted_at, full_read=True)
    finally:
        spool.close()
    return EntitySummary(
        entity=entity.label,
        received=result.received,
        new=result.new,
        changed=result.changed,
        deleted=result.deleted,
        requests=requests,
        seconds=round(time.perf_counter() - started, 3),
    )


def first_request(
    entity: Entity, companies: Sequence[str], page_size: int = SALES_PAGE_SIZE
) -> tuple[str, dict[str, str], dict[str, str]]:
    """URL, query options and headers of an entity's first page (``page_size`` asks Dataverse; F&O sets its own)."""
    select = ",".join(entity.column_names)
    if entity.system == "sales":
        return (
            f"{SALES_API}{entity.entity_set}",
            {"$select": select},
            {"Prefer": f"odata.maxpagesize={page_size}"},
        )
    params = {"$select": select, "cross-company": "true"}
    if "dataAreaId" in entity.column_names and companies:
        params["$filter"] = " or ".join(f"dataAreaId eq {key_literal(c)}" for c in companies)
    return f"{FNO_API}{entity.entity_set}", params, {}
