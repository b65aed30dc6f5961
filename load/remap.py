"""Remapping ids: a Sales record matched on its natural key keeps the id the target gave it.

A Sales flow model outputs a deterministic id for each record (decisions.md 12). When the
target already holds the record under another id (matched on the natural key), the plan
updates that record; every column of another model naming it (its lines' parent column,
a lookup bound to its entity set) must then name the actual id too, or the lines would be
keyed and bound to a record that does not exist. ``remapped`` gives the model's rows with
those columns rewritten, as a temp table the diff reads instead of the model.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from extract.registry import Entity
from extract.sql import ident, key_match, table
from load.config import Target
from transform.render import MODEL_SCHEMA


def id_columns(target: Target, targets: Mapping[str, Target]) -> dict[str, list[str]]:
    """Per column of ``target``'s model naming another Sales record p2c creates: the models creating it."""
    found: dict[str, list[str]] = {}
    parent = targets.get(target.parent_model or "")
    if parent is not None and parent.system == "sales" and parent.id:
        for mine, theirs in target.parent_on:
            if theirs == parent.id:
                found.setdefault(mine, []).append(parent.model)
    for bind in target.binds:
        for other in targets.values():
            if (other.model != target.model and other.system == "sales" and other.id and other.entity in bind.entities
                    and other.model not in found.get(bind.column, [])):
                found.setdefault(bind.column, []).append(other.model)
    return found


def remapped(con: duckdb.DuckDBPyConnection, target: Target, targets: Mapping[str, Target],
             entities: Mapping[tuple[str, str], Entity]) -> str:
    """The relation the diff reads for ``target``'s model: the model itself, or ``_p2c_desired`` with ids remapped."""
    model = table(MODEL_SCHEMA, target.model)
    columns = id_columns(target, targets)
    joins, replaced = [], []
    for n, (column, sources) in enumerate(sorted(columns.items())):
        pairs = [_pairs(con, targets[s], entities.get(("sales", targets[s].entity))) for s in sources]
        pairs = [p for p in pairs if p]
        if not pairs:
            continue
        alias = f"r{n}"
        joins.append(f"LEFT JOIN (SELECT DISTINCT planned, actual FROM ({' UNION ALL '.join(pairs)})) {alias}"
                     f" ON d.{ident(column)}::VARCHAR = {alias}.planned")
        replaced.append(f"coalesce(CAST({alias}.actual AS {_type(con, model, column)}), d.{ident(column)}) AS {ident(column)}")
    if not joins:
        return model
    con.execute(f"CREATE OR REPLACE TEMP TABLE _p2c_desired AS SELECT d.* REPLACE ({', '.join(replaced)})"
                f" FROM {model} d {' '.join(joins)}")
    return "_p2c_desired"


def _pairs(con: duckdb.DuckDBPyConnection, parent: Target, entity: Entity | None) -> str | None:
    """SQL of (planned id, actual id) for the parent model's records the target holds under another id."""
    if entity is None or not (_exists(con, MODEL_SCHEMA, parent.model) and _exists(con, entity.schema, entity.entity_set)):
        return None
    raw = table(entity.schema, entity.entity_set)
    partition = ", ".join(ident(k) for k in parent.key)
    return (f"SELECT d.{ident(parent.id)}::VARCHAR AS planned, a.{ident(parent.id)}::VARCHAR AS actual"
            f" FROM {table(MODEL_SCHEMA, parent.model)} d JOIN (SELECT * FROM {raw} WHERE NOT coalesce(_p2c_deleted, FALSE)"
            f" QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {ident(parent.id)}::VARCHAR NULLS LAST) = 1) a"
            f" ON {key_match(parent.key, 'd', 'a')}"
            f" WHERE a.{ident(parent.id)} IS NOT NULL AND d.{ident(parent.id)}::VARCHAR IS DISTINCT FROM a.{ident(parent.id)}::VARCHAR")


def _exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = current_database()"
                       " AND table_schema = ? AND table_name = ?", [schema, name]).fetchone()[0] > 0


def _type(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> str:
    for name, type_, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
        if name == column:
            return type_
    return "VARCHAR"
