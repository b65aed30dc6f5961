"""``p2c_meta.sync_state``: the deltaLink each change-tracked entity continues from.

A link is written only inside the transaction that merges the pages it follows, so the raw
tables and the link always describe the same point in the service's change history.
"""

from __future__ import annotations

from datetime import datetime

import duckdb


def ensure_sync_state(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.sync_state ("
        " entity VARCHAR NOT NULL, delta_link VARCHAR NOT NULL, run_id BIGINT, updated_at TIMESTAMP)"
    )


def stored_delta_links(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Every stored deltaLink by entity label (e.g. ``sales.accounts``); none before a first extract made the table."""
    try:
        return dict(con.execute("SELECT entity, delta_link FROM p2c_meta.sync_state").fetchall())
    except duckdb.CatalogException:
        return {}


def save_delta_link(
    con: duckdb.DuckDBPyConnection, entity: str, delta_link: str | None, *, run_id: int, updated_at: datetime
) -> None:
    """Replace ``entity``'s link (``None`` forgets it); call inside the merge's transaction."""
    con.execute("DELETE FROM p2c_meta.sync_state WHERE entity = ?", [entity])
    if delta_link is not None:
        con.execute("INSERT INTO p2c_meta.sync_state VALUES (?, ?, ?, ?)", [entity, delta_link, run_id, updated_at])
