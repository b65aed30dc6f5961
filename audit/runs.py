"""``p2c runs show RUN``: everything one run did, per stage, flow and entity."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from audit.db import has_table, rows
from audit.errors import UnknownRunError
from audit.ledger import describe_run, run_ids, stage_rows
from audit.plan_json import conflicts_of


def run_details(con: duckdb.DuckDBPyConnection, run_id: int) -> dict[str, Any]:
    """The run's stages, extracted entities, built models, failed checks, plans and pushes."""
    run = describe_run(con, run_id)
    if run is None:
        known = run_ids(con)
        hint = f"runs {known[-1]}..{known[0]}" if known else "no runs recorded yet"
        raise UnknownRunError(f"run {run_id}: not in p2c_meta.runs ({hint})")
    summaries = {r["stage"]: _json(r["summary"]) for r in stage_rows(con, run_id)}
    extract = summaries.get("extract")
    return {
        **run,
        "extract": extract if isinstance(extract, list) else [],
        "builds": _builds(con, run_id),
        "failed_checks": _failed_checks(con, run_id),
        "plans": _plans(con, run_id),
        "pushes": _pushes(con, run_id),
        "push_problems": _push_problems(con, run_id),
        "conflicts": _conflicts(con, run_id),
    }


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _builds(con, run_id: int) -> list[dict]:
    if not has_table(con, "p2c_meta", "model_builds"):
        return []
    return rows(con, "SELECT model, status, rows, seconds, message FROM p2c_meta.model_builds WHERE run_id = ?"
                     " ORDER BY model", [run_id])


def _failed_checks(con, run_id: int) -> list[dict]:
    if not has_table(con, "p2c_meta", "check_results"):
        return []
    return rows(con, "SELECT model, \"check\", status, failing, message FROM p2c_meta.check_results"
                     " WHERE run_id = ? AND status <> 'pass' ORDER BY model, \"check\"", [run_id])


def _plans(con, run_id: int) -> list[dict]:
    """Plans the run made, with their operations per flow, entity, company and action."""
    if not has_table(con, "p2c_meta", "plans"):
        return []
    found = rows(con, "SELECT plan_id, created_at, counts, breakdown, skipped, pushed_by_run FROM p2c_meta.plans"
                      " WHERE run_id = ? ORDER BY created_at", [run_id])
    for plan in found:
        for name in ("counts", "breakdown", "skipped"):
            plan[name] = _json(plan[name]) or ([] if name != "counts" else {})
    return found


def _pushes(con, run_id: int) -> list[dict]:
    """The run's push outcomes per flow, target entity, action and status."""
    if not has_table(con, "p2c_meta", "push_log"):
        return []
    return rows(con, """
        SELECT coalesce(p.flow, '') AS flow, l.system, l.entity, l.action, l.status, count(*) AS records
        FROM p2c_meta.push_log AS l
        LEFT JOIN p2c_meta.plan AS p ON p.plan_id = l.plan_id AND p.seq = l.seq
        WHERE l.run_id = ?
        GROUP BY ALL ORDER BY flow, l.system, l.entity, l.action, l.status""", [run_id])


def _push_problems(con, run_id: int) -> list[dict]:
    """Every record the run's pushes did not write, with the target's answer."""
    if not has_table(con, "p2c_meta", "push_log"):
        return []
    return rows(con, """
        SELECT system, entity, action, key::VARCHAR AS key, status, http_status, error_code, error_message, attempt
        FROM p2c_meta.push_log WHERE run_id = ? AND status <> 'ok'
        ORDER BY system, entity, key::VARCHAR""", [run_id])


def _conflicts(con, run_id: int) -> list[dict]:
    """Fields the target changed after p2c wrote them, in the run's plans, and how each was resolved."""
    if not has_table(con, "p2c_meta", "plan") or not has_table(con, "p2c_meta", "plans"):
        return []
    found = rows(con, """
        SELECT p.plan_id, p.model, p.system, p.entity, p.action, p.key::VARCHAR AS key, p.conflicts::VARCHAR AS conflicts
        FROM p2c_meta.plan AS p JOIN p2c_meta.plans AS s ON s.plan_id = p.plan_id
        WHERE s.run_id = ? AND p.conflicts IS NOT NULL AND json_array_length(p.conflicts) > 0
        ORDER BY p.plan_id, p.seq""", [run_id])
    for item in found:
        item["conflicts"] = conflicts_of(item["conflicts"])
    return found
