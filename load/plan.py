"""Plans: the diff of every flow model, stored as a value with an id and a content hash.

``p2c plan`` makes and stores one (the diff runs in DuckDB, load/diff_sql.py, straight into
``p2c_meta.plan``); ``p2c push`` applies exactly a stored plan, after checking its hash.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import duckdb

from extract.registry import Entity
from extract.sql import table
from load.config import Target, target_of
from load.diff import Change, Conflict, Operation
from load.diff_sql import diff_to_table, ensure_pushed_table, lit
from load.errors import PlanError
from load.remap import remapped
from transform.render import Model


@dataclass(frozen=True)
class PlanItem:
    seq: int
    model: str
    system: str
    operation: Operation
    etag: str | None = None          # the target row's ETag when planned (Sales, with versionnumber extracted)
    doc: str = ""                    # document: a header and its lines share one (one change set)
    notes: Mapping[str, Any] | None = None  # the model's _p2c_* columns, shown, never sent
    actual_hash: str | None = None   # the raw row's hash when planned
    level: int = 0                   # push order: parents and bound-to models first
    key_text: str = ""               # the key as stored (JSON text): how pushed and push_log name the record


@dataclass(frozen=True)
class Plan:
    plan_id: str
    run_id: int
    created_at: datetime
    items: tuple[PlanItem, ...]
    skipped: tuple[str, ...] = ()  # models not planned, with the reason
    breakdown: tuple[dict, ...] = ()  # counts per flow, entity, company and action

    def counts(self) -> dict[str, dict[str, int]]:
        """Operations per target entity and action, e.g. ``{"fno.CustomersV2": {"insert": 3}}``."""
        counts: dict[str, Counter] = {}
        for b in self.breakdown:
            counts.setdefault(f"{b['system']}.{b['entity']}", Counter())[b["action"]] += b["count"]
        return {entity: dict(c) for entity, c in sorted(counts.items())}

    @property
    def operations(self) -> int:
        return sum(b["count"] for b in self.breakdown)


PLAN_COLUMNS = (
    ("plan_id", "VARCHAR"), ("seq", "INTEGER"), ("model", "VARCHAR"), ("system", "VARCHAR"), ("entity", "VARCHAR"),
    ("action", "VARCHAR"), ("key", "JSON"), ("changes", "JSON"), ("target_id", "VARCHAR"), ("etag", "VARCHAR"),
    ("conflicts", "JSON"), ("notes", "JSON"), ("doc", "VARCHAR"), ("actual_hash", "VARCHAR"), ("flow", "VARCHAR"),
    ("level", "INTEGER"),
)
HASHED = ("seq", "model", "system", "entity", "action", "key", "changes", "target_id", "etag", "conflicts", "doc", "level")


def ensure_plan_tables(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.plans ("
        " plan_id VARCHAR PRIMARY KEY, run_id BIGINT, created_at TIMESTAMP, content_hash VARCHAR,"
        " counts JSON, skipped JSON, pushed_by_run BIGINT)"
    )
    con.execute("ALTER TABLE p2c_meta.plans ADD COLUMN IF NOT EXISTS breakdown JSON")
    con.execute("CREATE TABLE IF NOT EXISTS p2c_meta.plan (plan_id VARCHAR, seq INTEGER)")
    for name, type_ in PLAN_COLUMNS:
        con.execute(f"ALTER TABLE p2c_meta.plan ADD COLUMN IF NOT EXISTS {name} {type_}")
    ensure_pushed_table(con)


def targets_of(models: Sequence[Model]) -> dict[str, Target]:
    return {m.name: target_of(m.name, str(m.path), m.config) for m in models}


FLOW_ORDER = ("accounts", "contacts", "products", "quotes", "orders", "invoices")


def levels(targets: Mapping[str, Target], flows: Mapping[str, str] | None = None) -> dict[str, int]:
    """Push order: flows in P2C order (customers before the orders naming them), and within that a
    model after its parent and after the models creating what it binds to."""
    flows = flows or {}
    rank = {name: FLOW_ORDER.index(flows[name]) + 1 if flows.get(name) in FLOW_ORDER else 0 for name in targets}
    by_entity: dict[tuple[str, str], list[str]] = {}
    for t in targets.values():
        by_entity.setdefault((t.system, t.entity), []).append(t.model)
    found: dict[str, int] = {}

    def level(name: str, seen: frozenset[str]) -> int:
        if name in found:
            return found[name]
        t = targets[name]
        parent = {t.parent_model} if t.parent_model in targets else set()
        before = {m for b in t.binds for e in b.entities for m in by_entity.get(("sales", e), []) if m != name} - parent
        cycle = (before | parent) & seen
        if cycle:
            raise PlanError(f"model {name}: its parent/binds form a cycle through {', '.join(sorted(cycle))}")
        # lines share their header's level (they go in its change set); what they bind to comes earlier
        found[name] = max([rank[name] * 100, *(level(m, seen | {name}) for m in parent),
                           *(1 + level(m, seen | {name}) for m in before)])
        return found[name]

    for name in targets:
        level(name, frozenset())
    return found


def documents(targets: Mapping[str, Target]) -> dict[str, tuple[str, list[str]]]:
    """Per header or line model: (header model, columns naming the document)."""
    docs: dict[str, tuple[str, list[str]]] = {}
    for t in targets.values():
        if t.parent_model in targets:
            docs[t.model] = (t.parent_model, [mine for mine, _ in t.parent_on])
            docs.setdefault(t.parent_model, (t.parent_model, [theirs for _, theirs in t.parent_on]))
    return docs


def make_plan(
    con: duckdb.DuckDBPyConnection,
    targets: Sequence[Model],
    entities: dict[tuple[str, str], Entity],
    *,
    run_id: int,
    created_at: datetime,
    blocked: dict[str, str],
    only: Collection[str] | None = None,
) -> Plan:
    """Diff each flow model not in ``blocked`` (model → reason) against its target's raw table, and store the plan.

    ``only``: diff just these models (a later wave of `p2c run`); the others still order the push and remap ids."""
    ensure_plan_tables(con)
    skipped = [f"{name}: {reason}" for name, reason in sorted(blocked.items()) if only is None or name in only]
    configs = targets_of(targets)
    flows = {m.name: str(m.config.get("flow") or "") for m in targets}
    order, docs = levels(configs, flows), documents(configs)
    con.execute("CREATE OR REPLACE TEMP TABLE _p2c_plan_rows AS SELECT * EXCLUDE (plan_id) FROM p2c_meta.plan LIMIT 0")
    def depth(name: str) -> int:  # headers before their lines within a level (and so within a change set)
        parent = configs[name].parent_model
        return 0 if parent not in configs or parent == name else 1 + depth(parent)

    for model in sorted(targets, key=lambda m: (order[m.name], depth(m.name), m.name)):
        if model.name in blocked or (only is not None and model.name not in only):
            continue
        target = configs[model.name]
        entity = entities.get((target.system, target.entity))
        if entity is None:
            raise PlanError(f"{model.path}: target {target.system}.{target.entity} is not declared in models/sources")
        if not _exists(con, entity.schema, entity.entity_set):
            raise PlanError(f"{model.path}: {entity.label} has not been extracted yet; run `p2c extract` first")
        diff_to_table(con, target, remapped(con, target, configs, entities), table(entity.schema, entity.entity_set),
                      doc=docs.get(model.name), unique_key=set(target.key) == set(entity.key))
        con.execute("DROP TABLE IF EXISTS _p2c_desired")
        if target.id:
            _refuse_bad_ids(con, model.path, target.id)
        con.execute(
            "INSERT INTO _p2c_plan_rows BY NAME SELECT (SELECT count(*) FROM _p2c_plan_rows) + row_number() OVER (ORDER BY key) AS seq,"
            f" {lit(model.name)} AS model, {lit(target.system)} AS system, {lit(target.entity)} AS entity,"
            f" {lit(flows[model.name])} AS flow, {order[model.name]} AS level, * FROM _p2c_diff"
        )
    digest = con.execute(f"SELECT {_hash_sql()} FROM _p2c_plan_rows").fetchone()[0]
    plan_id = f"{run_id}-{digest[:8]}"
    breakdown = _breakdown(con, "_p2c_plan_rows")
    counts: dict[str, dict[str, int]] = {}
    for b in breakdown:
        entity_counts = counts.setdefault(f"{b['system']}.{b['entity']}", {})
        entity_counts[b["action"]] = entity_counts.get(b["action"], 0) + b["count"]
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("INSERT INTO p2c_meta.plans BY NAME SELECT ? AS plan_id, ? AS run_id, ? AS created_at, ? AS content_hash,"
                    " ? AS counts, ? AS skipped, ? AS breakdown",
                    [plan_id, run_id, created_at, digest, json.dumps(dict(sorted(counts.items()))), json.dumps(skipped),
                     json.dumps(breakdown)])
        con.execute("INSERT INTO p2c_meta.plan BY NAME SELECT ? AS plan_id, * FROM _p2c_plan_rows", [plan_id])
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")
    con.execute("DROP TABLE _p2c_plan_rows")
    return Plan(plan_id, run_id, created_at, (), tuple(skipped), tuple(breakdown))


def settle(con: duckdb.DuckDBPyConnection, plan_id: str, run_id: int) -> None:
    """Mark a plan done without pushing it (a later wave with nothing to write), so `p2c push` never picks it up."""
    con.execute("UPDATE p2c_meta.plans SET pushed_by_run = ? WHERE plan_id = ?", [run_id, plan_id])


def _refuse_bad_ids(con: duckdb.DuckDBPyConnection, path, id_column: str) -> None:
    """A Sales write addresses its record by id in the URL: an id that is not a GUID stops the plan here."""
    bad = con.execute(
        "SELECT key::VARCHAR, target_id FROM _p2c_diff WHERE action IN ('insert', 'update')"
        " AND TRY_CAST(target_id AS UUID) IS NULL LIMIT 1").fetchone()
    if bad is not None:
        raise PlanError(f"{path}: record {bad[0]}: {id_column} {bad[1]!r} is not a GUID "
                        "(new Sales records take deterministic_id(...) of their natural key)")


def _hash_sql() -> str:
    fields = ", ".join(f"coalesce({c}::VARCHAR, '')" for c in HASHED)
    return f"md5(coalesce(string_agg(concat_ws('|', {fields}), chr(10) ORDER BY seq), ''))"


def _breakdown(con: duckdb.DuckDBPyConnection, relation: str, where: str = "TRUE", params: list | None = None) -> list[dict]:
    rows = con.execute(
        f"SELECT flow, system, entity, coalesce(json_extract_string(key, '$.dataAreaId'), '') AS company, action, count(*)"
        f" FROM {relation} WHERE {where} GROUP BY ALL ORDER BY ALL", params or []).fetchall()
    return [dict(zip(("flow", "system", "entity", "company", "action", "count"), r)) for r in rows]


def _exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()"
                       " AND table_schema = ? AND table_name = ?", [schema, name]).fetchone()[0] > 0


def json_value(value: Any) -> Any:
    """JSON for values DuckDB hands back: decimals as numbers, timestamps as ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def load_plan(con: duckdb.DuckDBPyConnection, plan_id: str | None) -> Plan:
    """A stored plan by id, or the newest plan not pushed yet; refused when its rows no longer match its hash."""
    ensure_plan_tables(con)
    columns = "plan_id, run_id, created_at, content_hash, skipped, breakdown"
    if plan_id is None:
        row = con.execute(f"SELECT {columns} FROM p2c_meta.plans WHERE pushed_by_run IS NULL"
                          " ORDER BY created_at DESC, run_id DESC LIMIT 1").fetchone()
        if row is None:
            raise PlanError("no plan waiting to be pushed; run `p2c plan` first")
    else:
        row = con.execute(f"SELECT {columns} FROM p2c_meta.plans WHERE plan_id = ?", [plan_id]).fetchone()
        if row is None:
            raise PlanError(f"no plan with id {plan_id!r}")
    found_id, run_id, created_at, stored_hash, skipped, breakdown = row
    actual_hash = con.execute(f"SELECT {_hash_sql()} FROM p2c_meta.plan WHERE plan_id = ?", [found_id]).fetchone()[0]
    if actual_hash != stored_hash:
        raise PlanError(f"plan {found_id}: stored operations do not match its hash; refusing to push it")
    items = tuple(
        PlanItem(
            seq, model, system,
            Operation(entity, action, tuple(json.loads(key).items()), tuple(Change(*c) for c in json.loads(changes)),
                      target_id, tuple(Conflict(*c) for c in json.loads(conflicts or "[]"))),
            etag, doc or "", json.loads(notes) if notes else None, actual_hash_, level or 0, key,
        )
        for seq, model, system, entity, action, key, changes, target_id, etag, conflicts, doc, notes, actual_hash_, level
        in con.execute(
            "SELECT seq, model, system, entity, action, key::VARCHAR, changes, target_id, etag, conflicts, doc, notes,"
            " actual_hash, level"
            " FROM p2c_meta.plan WHERE plan_id = ? ORDER BY seq", [found_id]).fetchall()
    )
    return Plan(found_id, run_id, created_at, items, tuple(json.loads(skipped)), tuple(json.loads(breakdown or "[]")))
