"""Small SQL-building helpers: identifiers quoted by sqlglot, values always bound as parameters."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from sqlglot import exp


@lru_cache(maxsize=4096)
def ident(name: str) -> str:
    """A quoted DuckDB identifier (remembered: a merge quotes the same few hundred names again and again)."""
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")


def table(schema: str, name: str) -> str:
    return f"{ident(schema)}.{ident(name)}"


def column_list(names: Iterable[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{ident(n)}" for n in names)


def key_match(key: Iterable[str], left: str, right: str) -> str:
    """``l."a" = r."a" AND l."b" = r."b"`` for a (possibly composite) key."""
    return " AND ".join(f"{left}.{ident(k)} = {right}.{ident(k)}" for k in key)


def row_hash(names: Iterable[str], prefix: str = "") -> str:
    """The change detector for raw rows: DuckDB's 64-bit ``hash()`` of the row as a struct of the
    registry's columns (in registry order, typed as declared), as 16 hex digits. An auditor
    recomputes it in DuckDB with the same expression; ``HASH_FORMAT`` (extract/land.py) records
    which DuckDB computed it, so stored hashes are recomputed once when the function may differ."""
    fields = ", ".join(f"{exp.Literal.string(n).sql()}: {prefix}{ident(n)}" for n in names)
    return f"printf('%016x', hash({{{fields}}}))"
