"""The diff in DuckDB SQL: the rules of load/diff.py over whole tables, for plans of millions of rows.

Two steps: desired ⋈ actual on the natural key keeps only rows that differ (or have no
match), then those few meet the base (``p2c_meta.pushed``) and become operations. The
result is the temp table ``_p2c_diff`` (see ``DIFF_COLUMNS``). Identifiers are quoted and
literals built by sqlglot; no value reaches the SQL text except through them.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
from sqlglot import exp

from extract.sql import ident
from load.config import Target
from load.diff import NOTE_PREFIX
from load.errors import PlanError

DIFF_COLUMNS = ("key", "action", "target_id", "etag", "changes", "conflicts", "notes", "doc", "actual_hash")
NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
           "FLOAT", "DOUBLE", "REAL", "DECIMAL")


def lit(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    return exp.Literal.string(str(value)).sql(dialect="duckdb")


def column_types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column → DuckDB type of a table, view or query, in column order."""
    return {
        row[0]: row[1] for row in con.execute(f"DESCRIBE {relation}").fetchall()
    }


def _numeric(type_: str) -> bool:
    return type_.split("(")[0].upper() in NUMERIC


def _same(left: str, left_type: str, right: str, right_type: str) -> str:
    """SQL for load.diff.same: numbers by value, equal types exactly, other pairs only when both NULL."""
    if left_type == right_type or (_numeric(left_type) and _numeric(right_type)):
        return f"({left} IS NOT DISTINCT FROM {right})"
    return f"({left} IS NULL AND {right} IS NULL)"


def key_json(key: Sequence[str], prefix: str) -> str:
    """The record's key as JSON text, the form stored in plans, push_log and pushed."""
    return f"to_json(struct_pack({', '.join(f'{ident(k)} := {prefix}{ident(k)}' for k in key)}))::VARCHAR"


def diff_to_table(
    con: duckdb.DuckDBPyConnection,
    target: Target,
    desired: str,
    actual: str,
    *,
    doc: tuple[str, Sequence[str]] | None = None,
    unique_key: bool = False,
) -> None:
    """Diff ``desired`` (a qualified table) against ``actual`` (the target's raw table) into ``_p2c_diff``.

    ``doc`` = (root model, columns): records sharing those columns' values form one document
    (a header and its lines); without it each record is its own document. ``unique_key``: the
    natural key is the target's primary key, so no two actual rows share it (no dedup needed).
    """
    d_types = column_types(con, desired)
    a_types = column_types(con, actual)
    fields = [f for f in d_types if f not in target.identity and not f.startswith(NOTE_PREFIX)]
    notes = [f for f in d_types if f.startswith(NOTE_PREFIX)]
    missing = [c for c in (*target.identity, *fields) if c not in a_types or c not in d_types]
    if missing:
        raise PlanError(f"model {target.model}: column(s) {', '.join(missing)} missing from the model or from "
                        f"{target.system}.{target.entity} as declared in models/sources")
    key_on = " AND ".join(f"d.{ident(k)} = a.{ident(k)}" for k in target.key)
    first_key = ident(target.key[0])
    order = f"{ident(target.id)}::VARCHAR" if target.id else "_p2c_hash"
    version = "versionnumber" if target.system == "sales" and "versionnumber" in a_types else None
    same_da = [_same(f"d.{ident(f)}", d_types[f], f"a.{ident(f)}", a_types[f]) for f in fields]
    differs = " AND ".join(same_da) or "TRUE"
    partition = ", ".join(ident(k) for k in target.key)
    carried = [f"a.{ident(f)} AS {ident('_a_' + f)}" for f in fields]
    carried += [f"a.{ident(target.id)} AS _a_id"] if target.id else ["NULL::VARCHAR AS _a_id"]
    carried += [f"a.{ident(version)} AS _a_version"] if version else ["NULL::BIGINT AS _a_version"]
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _p2c_d AS "
        f"WITH a AS (SELECT * FROM {actual} WHERE NOT coalesce(_p2c_deleted, FALSE) "
        + ("" if unique_key else f"  QUALIFY row_number() OVER (PARTITION BY {partition} ORDER BY {order} NULLS LAST) = 1")
        + ") "
        f"SELECT d.*, a.{first_key} IS NOT NULL AS _m, a._p2c_hash AS _a_hash, {', '.join(carried)} "
        f"FROM {desired} AS d LEFT JOIN a ON {key_on} "
        f"WHERE a.{first_key} IS NULL OR NOT ({differs})"
    )
    rule = target.on_conflict
    changed, conflict, write, conflicts, changes, inserts = [], [], [], [], [], []
    for f in fields:
        d, a, path = f"d.{ident(f)}", f"d.{ident('_a_' + f)}", lit(f'$."{f}"')
        base = f"TRY_CAST(json_extract_string(b.fields, {path}) AS {a_types[f]})"
        ch = f"NOT {_same(d, d_types[f], a, a_types[f])}"
        cf = f"({ch} AND coalesce(json_exists(b.fields, {path}), FALSE) AND NOT ({a} IS NOT DISTINCT FROM {base}))"
        empty = f"({a} IS NULL" + (f" OR {a} = ''" if a_types[f].upper() == "VARCHAR" else "") + ")"
        w = {"target_wins": f"({ch} AND NOT {cf})", "fill_if_empty": f"({ch} AND (NOT {cf} OR {empty}))"}.get(rule, f"({ch})")
        resolution = (f"CASE WHEN {empty} THEN 'filled' ELSE 'kept' END" if rule == "fill_if_empty"
                      else lit({"block": "blocked"}.get(rule, rule)))
        changed.append(ch)
        conflict.append(cf)
        write.append(w)
        changes.append(f"CASE WHEN {w} THEN json_array({lit(f)}, {a}, {d}) END")
        conflicts.append(f"CASE WHEN {cf} THEN json_array({lit(f)}, json_extract(b.fields, {path}), {a}, {d}, {resolution}) END")
        inserts.append(f"json_array({lit(f)}, NULL, {d})")
    any_conflict = " OR ".join(conflict) or "FALSE"
    any_write = " OR ".join(write) or "FALSE"
    changes += [f"CASE WHEN ({any_write}) AND NOT {w} THEN json_array({lit(f)}, d.{ident('_a_' + f)}, d.{ident(f)}) END"
                for f, w in zip(fields, write) if f in target.always_send]
    blocked = f"WHEN {any_conflict} THEN 'conflict' " if rule == "block" else ""
    action = (f"CASE WHEN NOT d._m THEN {lit('insert') if target.create else 'NULL'} "
              f"{blocked}WHEN {any_write} THEN 'update' END")
    in_list = lambda items: f"to_json(list_filter([{', '.join(items)}], lambda x: x IS NOT NULL))" if items else "'[]'::JSON"
    desired_id = f"d.{ident(target.id)}::VARCHAR" if target.id else "NULL"
    notes_json = f"to_json(struct_pack({', '.join(f'{ident(n)} := d.{ident(n)}' for n in notes)}))" if notes else "NULL::JSON"
    if doc is not None:
        root, columns = doc
        doc_sql = f"to_json(list_value({lit(root)}, {', '.join(f'd.{ident(c)}::VARCHAR' for c in columns)}))::VARCHAR"
    else:
        doc_sql = f"to_json(list_value({lit(target.model)}, {key_json(target.key, 'd.')}))::VARCHAR"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _p2c_diff AS SELECT * FROM ("
        f"SELECT {key_json(target.key, 'd.')} AS key, {action} AS action, "
        f"CASE WHEN d._m THEN d._a_id::VARCHAR ELSE {desired_id} END AS target_id, "
        f"CASE WHEN d._m AND d._a_version IS NOT NULL THEN 'W/\"' || d._a_version::VARCHAR || '\"' END AS etag, "
        f"CASE WHEN d._m THEN {in_list(changes)} ELSE {in_list(inserts)} END AS changes, "
        f"CASE WHEN d._m THEN {in_list(conflicts)} ELSE '[]'::JSON END AS conflicts, "
        f"{notes_json} AS notes, {doc_sql} AS doc, d._a_hash AS actual_hash "
        f"FROM _p2c_d AS d LEFT JOIN p2c_meta.pushed AS b "
        f"ON b.system = {lit(target.system)} AND b.entity = {lit(target.entity)} AND b.key = {key_json(target.key, 'd.')}"
        f") WHERE action IS NOT NULL"
    )
    con.execute("DROP TABLE _p2c_d")


def ensure_pushed_table(con: duckdb.DuckDBPyConnection) -> None:
    """``p2c_meta.pushed``: per target record, every field p2c wrote and its value as read back."""
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'p2c_meta' AND table_name = 'pushed'").fetchall()}
    if "field" in columns:  # the first layout, one row per field and push: fold it into one row per record
        con.execute("ALTER TABLE p2c_meta.pushed RENAME TO pushed_by_field")
        con.execute(
            "CREATE TABLE p2c_meta.pushed AS SELECT system, entity, key::VARCHAR AS key, NULL::VARCHAR AS target_id,"
            " json_group_object(field, value::JSON) AS fields, max(run_id) AS run_id, max(pushed_at) AS pushed_at"
            " FROM (SELECT * FROM p2c_meta.pushed_by_field QUALIFY row_number() OVER"
            "  (PARTITION BY system, entity, key::VARCHAR, field ORDER BY run_id DESC, pushed_at DESC) = 1)"
            " GROUP BY ALL")
        con.execute("DROP TABLE p2c_meta.pushed_by_field")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.pushed (system VARCHAR, entity VARCHAR, key VARCHAR, target_id VARCHAR,"
        " fields JSON, run_id BIGINT, pushed_at TIMESTAMP)"
    )
