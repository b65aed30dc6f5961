"""Small read helpers shared by the audit modules: which tables and columns exist, rows as dicts.

The audit reads tables other stages create (and extend); every query names its columns, and
a table that does not exist yet (nothing was ever pushed, say) reads as empty.
"""

from __future__ import annotations

from typing import Any

import duckdb
from sqlglot import exp


def table_columns(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    """The table's columns in order; empty when the table does not exist."""
    return [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
        " ORDER BY ordinal_position", [schema, name]).fetchall()]


def has_table(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(table_columns(con, schema, name))


def table(schema: str, name: str) -> exp.Table:
    return exp.table_(exp.to_identifier(name, quoted=True), db=exp.to_identifier(schema, quoted=True))


def column(name: str, alias: str | None = None) -> exp.Column:
    return exp.column(name, table=alias, quoted=True)


def rows(con: duckdb.DuckDBPyConnection, query: exp.Expression | str, params: list | None = None) -> list[dict[str, Any]]:
    """Run a query and return its rows as dicts keyed by column name."""
    sql = query if isinstance(query, str) else query.sql("duckdb")
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def equals_text(name: str, alias: str | None = None) -> exp.Expression:
    """``CAST(col AS VARCHAR) = ?``: a key part compared as text, whatever the column's type."""
    return exp.EQ(this=exp.cast(column(name, alias), "VARCHAR"), expression=exp.Placeholder())


def json_field_equals(json_column: str, field: str, alias: str | None = None) -> exp.Expression:
    """``json_extract_string(col, '$."field"') = ?``: a key field of a JSON key column."""
    path = exp.Literal.string(f'$."{field}"')
    return exp.EQ(this=exp.func("json_extract_string", column(json_column, alias), path), expression=exp.Placeholder())


def match_where(match: dict[str, str], alias: str | None = None) -> exp.Expression:
    """Every column of ``match`` equal, as text, to its value (one placeholder each, in order)."""
    return exp.and_(*(equals_text(name, alias) for name in match))


def key_where(key: dict[str, str], alias: str | None = None) -> exp.Expression:
    """Every field of ``key`` equal to its value in the JSON ``key`` column (p2c_meta.plan, push_log, pushed)."""
    return exp.and_(*(json_field_equals("key", k, alias) for k in key))
