"""Seeds: small CSV tables an analyst edits (``models/seeds/<name>.csv``), loaded as ``seeds.<name>``.

A value map has the columns ``source_value,target_value``. Any seed's first column is its key:
each value appears once (value maps compare trimmed and case-insensitively, as ``value_map()``
looks them up). Columns are VARCHAR unless ``project.toml`` types them
(``[seeds.<name>.columns]``). A seed is reloaded only when its file or its types change.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import duckdb
import sqlglot
from sqlglot import exp

from extract.sql import ident, table
from transform.errors import SeedError

VALUE_MAP_COLUMNS = ("source_value", "target_value")
SEED_SCHEMA = "seeds"


@dataclass(frozen=True)
class Seed:
    name: str
    path: Path
    columns: tuple[str, ...]
    types: tuple[str, ...]
    rows: tuple[tuple[int, tuple[str | None, ...]], ...]  # (line, values); empty cell = None
    digest: str


def seed_files(seeds_dir: Path) -> dict[str, Path]:
    return {path.stem: path for path in sorted(seeds_dir.glob("*.csv"))} if seeds_dir.is_dir() else {}


def read_seed(path: Path, types: Mapping[str, str] | None = None) -> Seed:
    """Parse and validate one seed: header, ragged rows, duplicate keys; names file and line."""
    types = dict(types or {})
    raw = path.read_bytes()
    try:
        rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    except UnicodeDecodeError as exc:
        raise SeedError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    if not rows or not rows[0]:
        raise SeedError(f"{path}:1: header must name the columns, e.g. {','.join(VALUE_MAP_COLUMNS)}; found (empty file)")
    header = tuple(h.strip() for h in rows[0])
    _check_header(path, header, types)
    types = {c: _type(path, c, t) for c, t in types.items()}
    value_map = header == VALUE_MAP_COLUMNS
    seen: dict[str, int] = {}
    parsed = []
    for line, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise SeedError(f"{path}:{line}: expected {len(header)} values, found {len(row)}")
        key = row[0].strip().lower() if value_map else row[0]
        if key in seen:
            raise SeedError(f"{path}:{line}: {header[0]} {row[0]!r} is already on line {seen[key]} (duplicate key)")
        seen[key] = line
        parsed.append((line, tuple(v if v != "" else None for v in row)))
    digest = hashlib.sha256(raw + json.dumps(types, sort_keys=True).encode()).hexdigest()
    return Seed(path.stem, path, header, tuple(types.get(c, "VARCHAR") for c in header), tuple(parsed), digest)


def _check_header(path: Path, header: tuple[str, ...], types: Mapping[str, str]) -> None:
    if "" in header or len(set(header)) != len(header):
        raise SeedError(f"{path}:1: header has a blank or repeated column name: {','.join(header)}")
    undeclared = sorted(set(types) - set(header))
    if undeclared:
        raise SeedError(f"{path}:1: project.toml types column(s) {', '.join(undeclared)} the header does not have")


def _type(path: Path, column: str, text: str) -> str:
    try:
        return exp.DataType.build(text, dialect="duckdb").sql("duckdb")
    except (ValueError, sqlglot.errors.ParseError) as exc:
        raise SeedError(f"{path}: project.toml types {column} as {text!r}, not a DuckDB type") from exc


def value_map_header_error(path: Path) -> str | None:
    """Why ``path`` cannot serve ``value_map()`` (its header), or None when it can."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        header = tuple(h.strip() for h in next(csv.reader(handle), []))
    if header != VALUE_MAP_COLUMNS:
        return f"{path}:1: header must be {','.join(VALUE_MAP_COLUMNS)} for value_map(), found {','.join(header) or '(empty file)'}"
    return None


def validate_seed(path: Path) -> None:
    """A clear error for a bad header, a duplicate key or a ragged row."""
    read_seed(path)


def load_seeds(
    con: duckdb.DuckDBPyConnection,
    seeds_dir: Path,
    types: Mapping[str, Mapping[str, str]] | None = None,
    only: set[str] | None = None,
) -> tuple[dict[str, int], dict[str, SeedError]]:
    """(Re)load the seeds whose file or types changed.

    Returns the row counts of the seeds reloaded, and the seeds that could not be loaded (a bad
    seed keeps its previous table; the models reading it fail, the others still build).
    """
    types = types or {}
    seeds, errors = [], {}
    for name, path in seed_files(seeds_dir).items():
        if only is not None and name not in only:
            continue
        try:
            seeds.append(read_seed(path, types.get(name)))
        except (SeedError, OSError) as exc:
            errors[name] = exc if isinstance(exc, SeedError) else SeedError(f"{path}: {exc}")
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(SEED_SCHEMA)}")
    _ensure_seed_table(con)
    loaded = dict(con.execute("SELECT name, digest FROM p2c_meta.seeds").fetchall())
    existing = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [SEED_SCHEMA]).fetchall()}
    counts: dict[str, int] = {}
    for seed in seeds:
        if loaded.get(seed.name) == seed.digest and seed.name in existing:
            continue
        try:
            _load(con, seed)
        except SeedError as exc:
            errors[seed.name] = exc
            continue
        counts[seed.name] = len(seed.rows)
    return counts, errors


def _load(con: duckdb.DuckDBPyConnection, seed: Seed) -> None:
    """Replace ``seeds.<name>`` atomically; a value that does not fit its type names file and line."""
    target = table(SEED_SCHEMA, seed.name)
    staging = ", ".join(f"{ident(c)} VARCHAR" for c in seed.columns)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _p2c_seed (_line INTEGER, {staging})")
        if seed.rows:
            con.executemany(
                f"INSERT INTO _p2c_seed VALUES ({', '.join('?' * (len(seed.columns) + 1))})",
                [[line, *values] for line, values in seed.rows],
            )
        for column, type_ in zip(seed.columns, seed.types):
            if type_.upper() == "VARCHAR":
                continue
            bad = con.execute(
                f"SELECT _line, {ident(column)} FROM _p2c_seed WHERE {ident(column)} IS NOT NULL "
                f"AND TRY_CAST({ident(column)} AS {type_}) IS NULL ORDER BY _line LIMIT 1"
            ).fetchone()
            if bad:
                raise SeedError(f"{seed.path}:{bad[0]}: {column} {bad[1]!r} is not a {type_}")
        casts = ", ".join(f"CAST({ident(c)} AS {t}) AS {ident(c)}" for c, t in zip(seed.columns, seed.types))
        con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT {casts} FROM _p2c_seed ORDER BY _line")
        con.execute("DELETE FROM p2c_meta.seeds WHERE name = ?", [seed.name])
        con.execute("INSERT INTO p2c_meta.seeds VALUES (?, ?, ?, current_timestamp)", [seed.name, seed.digest, len(seed.rows)])
        con.execute("DROP TABLE _p2c_seed")
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        raise SeedError(f"{seed.path}: {str(exc).splitlines()[0]}") from exc
    except SeedError:
        con.execute("ROLLBACK")
        raise


def _ensure_seed_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.seeds (name VARCHAR, digest VARCHAR, rows BIGINT, loaded_at TIMESTAMP)"
    )
