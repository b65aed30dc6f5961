"""``p2c status``: the last runs (when, profile, stages, counts, durations, failures) and what waits for a retry."""

from __future__ import annotations

from typing import Any

import duckdb

from audit.db import has_table, rows
from audit.ledger import describe_run, run_ids

RETRIED = ("failed", "rolled_back")  # outcomes the next push of the same record tries again


def pending_retries(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Target records whose latest push outcome was a failure or a rollback (the next run sends them again)."""
    if not has_table(con, "p2c_meta", "push_log"):
        return []
    return rows(con, """
        SELECT system, entity, key::VARCHAR AS key, status, http_status, error_message, run_id, plan_id, attempt, sent_at
        FROM (SELECT system, entity, key, status, http_status, error_message, run_id, plan_id, attempt, sent_at,
                     row_number() OVER (PARTITION BY system, entity, key::VARCHAR ORDER BY sent_at DESC, run_id DESC) AS latest
              FROM p2c_meta.push_log)
        WHERE latest = 1 AND status IN (?, ?)
        ORDER BY system, entity, key""", list(RETRIED))


def status(con: duckdb.DuckDBPyConnection, limit: int = 10) -> dict[str, Any]:
    """The ``limit`` newest runs, newest first, and the records pending a retry."""
    runs = [describe_run(con, run_id) for run_id in run_ids(con)[:limit]]
    return {"runs": [r for r in runs if r is not None], "pending_retries": pending_retries(con)}
