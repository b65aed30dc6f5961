"""Push: apply a stored plan through the writers, logging every operation's outcome.

One failing record never stops the others; the push reports failures at the end.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

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


CHUNK = 100  # operations whose outcomes are logged in one transaction


def push(con: duckdb.DuckDBPyConnection, plan: Plan, writers: Mapping[str, Writer], *, run_id: int) -> PushResult:
    ensure_push_tables(con)
    result = PushResult(plan.plan_id)
    for start in range(0, len(plan.items), CHUNK):
        sent = []
        for item in plan.items[start:start + CHUNK]:
            outcome = writers[item.system].write(item.operation)
            sent.append((item, outcome, utcnow()))
            counts = result.counts.setdefault(f"{item.system}.{item.operation.entity}", Counter())
            counts[item.operation.action if outcome.ok else "failed"] += 1
            if not outcome.ok:
                result.failures.append(outcome.error_message)
        _log(con, plan, sent, run_id)
    con.execute("UPDATE p2c_meta.plans SET pushed_by_run = ? WHERE plan_id = ?", [run_id, plan.plan_id])
    return result


def _log(con: duckdb.DuckDBPyConnection, plan: Plan, sent: list[tuple[PlanItem, Outcome, datetime]], run_id: int) -> None:
    """Record the outcomes of sent operations, and the values that landed, in one transaction."""
    log, pushed = [], []
    for item, outcome, sent_at in sent:
        op = item.operation
        key = json.dumps(dict(op.key), default=json_value)
        log.append({
            "plan_id": plan.plan_id, "seq": item.seq, "run_id": run_id, "system": item.system, "entity": op.entity,
            "action": op.action, "key": key, "status": "ok" if outcome.ok else "failed",
            "http_status": outcome.http_status, "target_id": outcome.target_id, "error_code": outcome.error_code,
            "error_message": outcome.error_message, "sent_at": sent_at,
        })
        if outcome.ok:
            pushed += [{"system": item.system, "entity": op.entity, "key": key, "field": c.field,
                        "value": json.dumps(c.new, default=json_value), "run_id": run_id, "pushed_at": sent_at}
                       for c in op.changes]
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "INSERT INTO p2c_meta.push_log SELECT n.plan_id, n.seq, n.run_id, n.system, n.entity, n.action, n.key,"
        " n.status, n.http_status, n.target_id, n.error_code, n.error_message,"
        " 1 + (SELECT count(*) FROM p2c_meta.push_log p"
        "      WHERE p.system = n.system AND p.entity = n.entity AND p.key::VARCHAR = n.key),"
        " n.sent_at FROM (SELECT unnest(?, recursive := true)) AS n",
        [log],
    )
    if pushed:
        con.execute(
            "INSERT INTO p2c_meta.pushed SELECT n.system, n.entity, n.key, n.field, n.value, n.run_id, n.pushed_at"
            " FROM (SELECT unnest(?, recursive := true)) AS n",
            [pushed],
        )
    con.execute("COMMIT")
