"""One run's stages as recorded in ``p2c_meta.runs``, condensed to when, how long, status and counts."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import duckdb

from audit.db import has_table, rows

STAGE_ORDER = ("extract", "build", "check", "plan", "push")


def run_ids(con: duckdb.DuckDBPyConnection) -> list[int]:
    """Every run id in the ledger, newest first."""
    if not has_table(con, "p2c_meta", "runs"):
        return []
    return [r[0] for r in con.execute("SELECT DISTINCT run_id FROM p2c_meta.runs ORDER BY run_id DESC").fetchall()]


def stage_rows(con: duckdb.DuckDBPyConnection, run_id: int) -> list[dict[str, Any]]:
    if not has_table(con, "p2c_meta", "runs"):
        return []
    return rows(con, "SELECT run_id, stage, profile, status, started_at, finished_at, summary, error"
                     " FROM p2c_meta.runs WHERE run_id = ? ORDER BY started_at", [run_id])


def push_outcomes(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, int]:
    """Records the run's pushes wrote, per outcome (ok, failed, rolled_back, conflict)."""
    if not has_table(con, "p2c_meta", "push_log"):
        return {}
    return dict(con.execute("SELECT status, count(*) FROM p2c_meta.push_log WHERE run_id = ? GROUP BY status"
                            " ORDER BY status", [run_id]).fetchall())


def stage_counts(con: duckdb.DuckDBPyConnection, run_id: int, stage: str, summary: Any) -> dict[str, Any]:
    """The few numbers that say what a stage did, from its stored summary (and push_log for pushes)."""
    if stage == "extract" and isinstance(summary, list):
        totals = Counter()
        for entity in summary:
            for name in ("received", "new", "changed", "deleted"):
                totals[name] += entity.get(name) or 0
        return {"entities": len(summary), **totals}
    if stage in ("build", "check") and isinstance(summary, list):
        statuses = Counter(str(item.get("status")) for item in summary)
        return {"models" if stage == "build" else "checks": len(summary), **statuses}
    if stage == "plan" and isinstance(summary, dict):
        actions = Counter()
        for counts in (summary.get("counts") or {}).values():
            actions.update(counts)
        return {"plan_id": summary.get("plan_id"), "operations": summary.get("operations", sum(actions.values())), **actions}
    if stage == "push":
        plan_id = summary.get("plan_id") if isinstance(summary, dict) else None
        return {**({"plan_id": plan_id} if plan_id else {}), **push_outcomes(con, run_id)}
    return {}


def describe_run(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, Any] | None:
    """When, which profile, how long, and each stage's status, counts and error; ``None`` if unknown."""
    found = stage_rows(con, run_id)
    if not found:
        return None
    stages = []
    for row in sorted(found, key=lambda r: (_rank(r["stage"]), r["started_at"])):
        summary = json.loads(row["summary"]) if isinstance(row["summary"], str) else row["summary"]
        stages.append({
            "stage": row["stage"], "status": row["status"], "started_at": row["started_at"],
            "finished_at": row["finished_at"], "seconds": _seconds(row["started_at"], row["finished_at"]),
            "counts": stage_counts(con, run_id, row["stage"], summary), "error": row["error"],
        })
    started = min(r["started_at"] for r in found)
    finished = max(r["finished_at"] for r in found)
    return {
        "run_id": run_id, "profile": found[0]["profile"], "started_at": started, "finished_at": finished,
        "seconds": _seconds(started, finished),
        "status": "failed" if any(s["status"] != "ok" for s in stages) else "ok",
        "stages": stages,
    }


def _rank(stage: str) -> int:
    return STAGE_ORDER.index(stage) if stage in STAGE_ORDER else len(STAGE_ORDER)


def _seconds(started, finished) -> float | None:
    if started is None or finished is None:
        return None
    return round((finished - started).total_seconds(), 3)
