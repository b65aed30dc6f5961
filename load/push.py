"""Push: apply a stored plan through the writers, logging every operation's outcome.

One failing record never stops the others; the push reports failures at the end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from extract.runs import utcnow
from load.plan import Plan, PlanItem, ensure_plan_tables, json_value
from load.writers import Outcome, Writer


@dataclass
class PushResult:
    plan_id: str
    counts: dict[str, Counter] = field(default_factory=dict)  # entity → {"insert": n, "update": n, "failed": n}
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"plan_id": self.plan_id, "counts": {e: dict(c) for e, c in self.counts.items()}, "failures": self.failures}


def ensure_push_tables(con: duckdb.DuckDBPyConnection) -> None:
    ensure_plan_tables(con)
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.push_log ("
        " plan_id VARCHAR, seq INTEGER, run_id BIGINT, system VARCHAR, entity VARCHAR, action VARCHAR,"
        " key JSON, status VARCHAR, http_status INTEGER, target_id VARCHAR, error_code VARCHAR,"
        " error_message VARCHAR, attempt INTEGER, sent_at TIMESTAMP)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.pushed ("
        " system VARCHAR, entity VARCHAR, key JSON, field VARCHAR, value JSON, run_id BIGINT, pushed_at TIMESTAMP)"
    )


def push(con: duckdb.DuckDBPyConnection, plan: Plan, writers: Mapping[str, Writer], *, run_id: int) -> PushResult:
    ensure_push_tables(con)
    result = PushResult(plan.plan_id)
    for item in plan.items:
        outcome = writers[item.system].write(item.operation)
        _log(con, plan, item, outcome, run_id)
        entity = f"{item.system}.{item.operation.entity}"
        counts = result.counts.setdefault(entity, Counter())
        if outcome.ok:
            counts[item.operation.action] += 1
        else:
            counts["failed"] += 1
            result.failures.append(outcome.error_message)
    con.execute("UPDATE p2c_meta.plans SET pushed_by_run = ? WHERE plan_id = ?", [run_id, plan.plan_id])
    return result


def _log(con: duckdb.DuckDBPyConnection, plan: Plan, item: PlanItem, outcome: Outcome, run_id: int) -> None:
    op = item.operation
    key = json.dumps(dict(op.key), default=json_value)
    now = utcnow()
    attempt = con.execute(
        "SELECT count(*) + 1 FROM p2c_meta.push_log WHERE system = ? AND entity = ? AND key = ?::JSON",
        [item.system, op.entity, key],
    ).fetchone()[0]
    con.execute(
        "INSERT INTO p2c_meta.push_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [plan.plan_id, item.seq, run_id, item.system, op.entity, op.action, key,
         "ok" if outcome.ok else "failed", outcome.http_status, outcome.target_id,
         outcome.error_code, outcome.error_message, attempt, now],
    )
    if outcome.ok:
        con.executemany(
            "INSERT INTO p2c_meta.pushed VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[item.system, op.entity, key, c.field, json.dumps(c.new, default=json_value), run_id, now] for c in op.changes],
        )
