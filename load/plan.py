"""Plans: the diff of every flow model, stored as a value with an id and a content hash.

``p2c plan`` makes and stores one; ``p2c push`` applies exactly a stored plan.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from extract.registry import Entity
from extract.sql import column_list, table
from load.diff import Change, Operation, diff
from load.errors import PlanError
from transform.render import MODEL_SCHEMA, Model


@dataclass(frozen=True)
class PlanItem:
    seq: int
    model: str
    system: str
    operation: Operation


@dataclass(frozen=True)
class Plan:
    plan_id: str
    run_id: int
    created_at: datetime
    items: tuple[PlanItem, ...]
    skipped: tuple[str, ...] = ()  # models not planned, with the reason

    def counts(self) -> dict[str, dict[str, int]]:
        """Operations per target entity and action, e.g. ``{"fno.CustomersV2": {"insert": 3}}``."""
        counts: dict[str, Counter] = {}
        for item in self.items:
            counts.setdefault(f"{item.system}.{item.operation.entity}", Counter())[item.operation.action] += 1
        return {entity: dict(c) for entity, c in sorted(counts.items())}


def make_plan(
    con: duckdb.DuckDBPyConnection,
    targets: Sequence[Model],
    entities: dict[tuple[str, str], Entity],
    *,
    run_id: int,
    created_at: datetime,
    blocked: dict[str, str],
) -> Plan:
    """Diff each flow model not in ``blocked`` (model → reason) against its target's raw table."""
    items: list[PlanItem] = []
    skipped = [f"{name}: {reason}" for name, reason in sorted(blocked.items())]
    for model in targets:
        if model.name in blocked:
            continue
        target = model.config["target"]
        entity = entities.get((target["system"], target["entity"]))
        if entity is None:
            raise PlanError(f"{model.path}: target {target['system']}.{target['entity']} is not declared in sources.toml")
        desired = _rows(con, f"SELECT * FROM {table(MODEL_SCHEMA, model.name)}")
        fields = list(desired[0]) if desired else list(target["key"])
        unknown = [f for f in fields if f not in entity.column_names]
        if unknown:
            raise PlanError(f"{model.path}: column(s) {', '.join(unknown)} are not columns of {entity.label} in sources.toml")
        actual = _rows(con, f"SELECT {column_list(fields)} FROM {table(entity.schema, entity.entity_set)} WHERE NOT _p2c_deleted")
        for operation in diff(entity.entity_set, target["key"], desired, actual):
            items.append(PlanItem(len(items) + 1, model.name, entity.system, operation))
    digest = content_hash(items)
    return Plan(f"{run_id}-{digest[:8]}", run_id, created_at, tuple(items), tuple(skipped))


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def content_hash(items: Sequence[PlanItem]) -> str:
    payload = json.dumps([_item_json(i) for i in items], sort_keys=True, default=json_value)
    return hashlib.sha256(payload.encode()).hexdigest()


def json_value(value: Any) -> Any:
    """JSON for values DuckDB hands back: decimals as numbers, timestamps as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _item_json(item: PlanItem) -> dict[str, Any]:
    op = item.operation
    return {
        "seq": item.seq,
        "model": item.model,
        "system": item.system,
        "entity": op.entity,
        "action": op.action,
        "key": dict(op.key),
        "changes": [[c.field, c.old, c.new] for c in op.changes],
    }


def ensure_plan_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.plans ("
        " plan_id VARCHAR PRIMARY KEY, run_id BIGINT, created_at TIMESTAMP, content_hash VARCHAR,"
        " counts JSON, skipped JSON, pushed_by_run BIGINT)"
    )
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.plan ("
        " plan_id VARCHAR, seq INTEGER, model VARCHAR, system VARCHAR, entity VARCHAR,"
        " action VARCHAR, key JSON, changes JSON)"
    )


def save_plan(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    ensure_plan_tables(con)
    con.execute("BEGIN TRANSACTION")
    con.execute(
        "INSERT INTO p2c_meta.plans VALUES (?, ?, ?, ?, ?, ?, NULL)",
        [plan.plan_id, plan.run_id, plan.created_at, content_hash(plan.items), json.dumps(plan.counts()), json.dumps(plan.skipped)],
    )
    rows = []
    for item in plan.items:
        data = _item_json(item)
        rows.append([
            plan.plan_id, item.seq, item.model, item.system, data["entity"], data["action"],
            json.dumps(data["key"], default=json_value), json.dumps(data["changes"], default=json_value),
        ])
    if rows:
        con.executemany("INSERT INTO p2c_meta.plan VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute("COMMIT")


def load_plan(con: duckdb.DuckDBPyConnection, plan_id: str | None) -> Plan:
    """A stored plan by id, or the newest plan not pushed yet."""
    ensure_plan_tables(con)
    if plan_id is None:
        row = con.execute(
            "SELECT plan_id, run_id, created_at, content_hash, skipped FROM p2c_meta.plans "
            "WHERE pushed_by_run IS NULL ORDER BY created_at DESC LIMIT 1"
        ).fetchone()
        if row is None:
            raise PlanError("no plan waiting to be pushed; run `p2c plan` first")
    else:
        row = con.execute(
            "SELECT plan_id, run_id, created_at, content_hash, skipped FROM p2c_meta.plans WHERE plan_id = ?", [plan_id]
        ).fetchone()
        if row is None:
            raise PlanError(f"no plan with id {plan_id!r}")
    found_id, run_id, created_at, stored_hash, skipped = row
    items = tuple(
        PlanItem(
            seq,
            model,
            system,
            Operation(
                entity,
                action,
                tuple(json.loads(key).items()),
                tuple(Change(f, old, new) for f, old, new in json.loads(changes)),
            ),
        )
        for seq, model, system, entity, action, key, changes in con.execute(
            "SELECT seq, model, system, entity, action, key, changes FROM p2c_meta.plan WHERE plan_id = ? ORDER BY seq",
            [found_id],
        ).fetchall()
    )
    if content_hash(items) != stored_hash:
        raise PlanError(f"plan {found_id}: stored operations do not match its hash; refusing to push it")
    return Plan(found_id, run_id, created_at, items, tuple(json.loads(skipped)))
