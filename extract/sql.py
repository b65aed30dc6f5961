"""Small SQL-building helpers: identifiers quoted by sqlglot, values always bound as parameters."""

from __future__ import annotations

from collections.abc import Iterable

from sqlglot import exp


def ident(name: str) -> str:
    """A quoted DuckDB identifier."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def table(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def column_list(names: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{ident(n)}" for n in names)


def key_match(key: Iterable[str], left: str, right: str) -> str:
    """``l."a" = r."a" AND l."b" = r."b"`` for a (possibly composite) key."""
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in key)


def row_hash(names: Iterable[str], prefix: str = "") -> str:
    """md5 of the row's columns as canonical JSON: the change detector for raw rows."""
    fields = ", ".join(f"{exp.Literal.string(n).sql()}: {prefix}{ident(n)}" for n in names)
    return f"md5(to_json({{{fields}}}))"
