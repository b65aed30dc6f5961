"""Seeds: value maps an analyst edits as CSV (``models/seeds/<name>.csv``), loaded as ``seeds.<name>``.

A value map has the columns ``source_value,target_value``; each source value appears once.
"""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb

from extract.sql import ident, table
from transform.errors import SeedError

VALUE_MAP_COLUMNS = ("source_value", "target_value")


def seed_files(seeds_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(seeds_dir.glob("*.csv"))} if seeds_dir.is_dir() else {}


def validate_seed(path: Path) -> None:
    """A clear error for a bad header, a duplicate source value or a ragged row."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    if not rows or tuple(h.strip() for h in rows[0]) != VALUE_MAP_COLUMNS:
        found = ",".join(rows[0]) if rows else "(empty file)"
        raise SeedError(f"{path}:1: header must be {','.join(VALUE_MAP_COLUMNS)}, found {found}")
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(VALUE_MAP_COLUMNS):
            raise SeedError(f"{path}:{line}: expected {len(VALUE_MAP_COLUMNS)} values, found {len(row)}")
        source = row[0].strip().lower()
        if source in seen:
            raise SeedError(f"{path}:{line}: source value {row[0]!r} is already mapped on line {seen[source]}")
        seen[source] = line


def load_seeds(con: duckdb.DuckDBPyConnection, seeds_dir: Path) -> dict[str, int]:
    """(Re)load every seed as a VARCHAR table; returns row counts by seed name."""
    counts: dict[str, int] = {}
    con.execute("CREATE SCHEMA IF NOT EXISTS seeds")
    for name, path in seed_files(seeds_dir).items():
        validate_seed(path)
        target = table("seeds", name)
        con.execute(
            f"CREATE OR REPLACE TABLE {target} AS SELECT {ident('source_value')}, {ident('target_value')} "
            "FROM read_csv(?, header = true, all_varchar = true)",
            [str(path)],
        )
        counts[name] = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
    return counts
