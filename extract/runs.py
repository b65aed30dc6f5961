"""The run ledger, ``p2c_meta.runs``: one row per stage of each run, with its status and summary."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import duckdb


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.runs ("
        " run_id BIGINT, stage VARCHAR, profile VARCHAR, status VARCHAR,"
        " started_at TIMESTAMP, finished_at TIMESTAMP, summary JSON, error VARCHAR)"
    )


def new_run_id(con: duckdb.DuckDBPyConnection) -> int:
    ensure_meta(con)
    return con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM p2c_meta.runs").fetchone()[0]


def utcnow() -> datetime:
    """Naive UTC: DuckDB TIMESTAMP columns hold UTC throughout p2c."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def record_stage(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: int,
    stage: str,
    profile: str,
    started_at: datetime,
    status: str,
    summary: Any = None,
    error: str | None = None,
) -> None:
    ensure_meta(con)
    con.execute(
        "INSERT INTO p2c_meta.runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, stage, profile, status, started_at, utcnow(), json.dumps(summary, default=str), error],
    )
