"""Golden fixtures: a model's expected output rows for given input rows, as files an analyst writes.

``models/tests/<model under test>/<case>/`` holds:

- ``case.toml``: ``description = "..."`` and optional ``[vars]`` overrides;
- ``<system>.<entity set>.csv``: raw rows of a source (columns not given are NULL,
  ``_p2c_deleted`` defaults to false); sources not given are empty;
- optionally ``<model>.csv``: rows standing in for an upstream model instead of building it;
- ``expected.csv``: the model's expected rows, compared as a multiset on the columns it names,
  as text (the model's values cast to VARCHAR; numbers compared by value; empty cell = NULL).

The case runs in an in-memory DuckDB with the real seeds and the upstream chain built from the inputs.
"""

from __future__ import annotations

import csv
import tomllib
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from extract.land import ensure_raw_tables
from extract.registry import Entity
from extract.sql import column_list, ident, table
from transform.errors import FixtureError, TransformError
from transform.graph import upstream
from transform.project import Project, load_project
from transform.render import MODEL_SCHEMA, SOURCE_SCHEMAS, literal
from transform.seeds import load_seeds

EXPECTED = "expected.csv"
CASE_FILE = "case.toml"
SHOW = 3
NUMERIC = ("DECIMAL", "DOUBLE", "FLOAT", "REAL", "INTEGER", "BIGINT", "SMALLINT", "TINYINT", "HUGEINT", "UBIGINT", "UINTEGER", "NUMERIC")


@dataclass(frozen=True)
class Case:
    model: str
    name: str
    path: Path

    @property
    def id(self) -> str:
        return f"{self.model}/{self.name}"


@dataclass(frozen=True)
class Outcome:
    case: Case
    columns: tuple[str, ...]
    missing: tuple[tuple[str | None, ...], ...]  # expected rows the model did not produce
    extra: tuple[tuple[str | None, ...], ...]  # rows the model produced that were not expected

    @property
    def passed(self) -> bool:
        return not self.missing and not self.extra

    def failure_line(self) -> str:
        parts = []
        for label, rows in (("missing", self.missing), ("extra", self.extra)):
            if rows:
                shown = " ".join(str(dict(zip(self.columns, r))) for r in rows[:SHOW])
                parts.append(f"{len(rows)} {label} row(s): {shown}" + (" …" if len(rows) > SHOW else ""))
        hint = ""
        blanked = lambda rows: Counter(tuple(v or None for v in r) for r in rows)  # noqa: E731
        if blanked(self.missing) == blanked(self.extra):
            hint = ' (the rows differ only in NULL vs \'\': an empty cell is NULL; write "" for an empty string)'
        return f"{self.case.path}: {'; '.join(parts)}{hint}"


def discover(tests_dir: Path) -> list[Case]:
    """Every ``<model>/<case>/`` folder under ``tests_dir`` (``models/tests``), sorted."""
    if not tests_dir.is_dir():
        return []
    return [
        Case(model_dir.name, case_dir.name, case_dir)
        for model_dir in sorted(p for p in tests_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
        for case_dir in sorted(p for p in model_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))
    ]


_projects: dict[tuple[str, str], Project] = {}


def _project(models_dir: Path, variables: dict[str, Any]) -> Project:
    key = (str(models_dir.resolve()), repr(sorted(variables.items())))
    if key not in _projects:
        _projects[key] = load_project(models_dir, variables)
    return _projects[key]


def run_case(models_dir: Path, case: Case) -> Outcome:
    """Build ``case.model`` from the case's inputs and compare it with ``expected.csv``."""
    settings = _case_settings(case)
    project = _project(models_dir, dict(settings.get("vars", {})))
    if case.model not in project.models:
        if case.model in project.errors:
            raise project.errors[case.model]
        raise FixtureError(f"{case.path}: no model named {case.model!r} (the folder name must be the model under test)")
    needed = upstream(project.models, [case.model])
    broken = sorted(set(project.errors) & {r for m in needed for r in project.models[m].refs})
    if broken:
        raise project.errors[broken[0]]
    inputs = {p.stem: p for p in sorted(case.path.glob("*.csv")) if p.name != EXPECTED}
    if not (case.path / EXPECTED).is_file():
        raise FixtureError(f"{case.path}: {EXPECTED} is missing")
    with duckdb.connect() as con:
        stubs = _load_inputs(con, project, case, inputs, needed)
        used = {seed for name in needed for seed in project.models[name].seeds}
        _, seed_errors = load_seeds(con, project.seeds_dir, project.seed_types, only=used)
        if seed_errors:
            raise next(iter(seed_errors.values()))
        _build_chain(con, project, needed, stubs)
        return _compare(con, case, project)


def _case_settings(case: Case) -> dict[str, Any]:
    path = case.path / CASE_FILE
    if not path.is_file():
        raise FixtureError(f"{path}: missing (give at least description = \"...\")")
    try:
        settings = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise FixtureError(f"{path}: {exc}") from exc
    unknown = sorted(set(settings) - {"description", "vars"})
    if unknown or not isinstance(settings.get("description"), str):
        problem = f"unknown key(s) {', '.join(unknown)}" if unknown else "description = \"...\" is required"
        raise FixtureError(f"{path}: {problem} (keys: description, [vars])")
    return settings


def _load_inputs(con, project: Project, case: Case, inputs: dict[str, Path], needed: set[str]) -> dict[str, Path]:
    """Create every raw table (empty), fill those the case gives; return the model stubs."""
    entities = {f"{system}.{entity_set}": e for (system, entity_set), e in project.entities.items()}
    read = {f"{system}.{entity_set}" for name in needed for system, entity_set in project.models[name].sources}
    for label in sorted(read | (set(inputs) & set(entities))):
        ensure_raw_tables(con, entities[label])
    stubs = {}
    for stem, path in inputs.items():
        if stem in entities:
            _insert_source(con, path, entities[stem])
        elif stem in project.models:
            if stem == case.model:
                raise FixtureError(f"{path}: the model under test cannot be stubbed")
            if stem not in needed:
                raise FixtureError(f"{path}: {stem} is not upstream of {case.model}")
            stubs[stem] = path
        else:
            raise FixtureError(f"{path}: not a source (<system>.<entity set>.csv, declared in models/sources) "
                               f"nor a model name")
    return stubs


def _read_csv(con, path: Path) -> tuple[list[str], list[tuple[int, list[str | None]]]]:
    """Header and (line, values) rows. An empty cell is NULL; a quoted empty cell (``""``) is ''."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    if not rows or not rows[0]:
        raise FixtureError(f"{path}:1: empty file (the first line names the columns)")
    header = [h.strip() for h in rows[0]]
    if "" in header or len(set(header)) != len(header):
        raise FixtureError(f"{path}:1: header has a blank or repeated column name")
    lines = []
    for line, row in enumerate(rows[1:], start=2):
        if row and len(row) != len(header):
            raise FixtureError(f"{path}:{line}: expected {len(header)} values, found {len(row)}")
        if row:
            lines.append(line)
    columns = "{" + ", ".join(f"{literal(f'c{i}').sql('duckdb')}: 'VARCHAR'" for i in range(len(header))) + "}"
    values = con.execute(
        f"SELECT * FROM read_csv(?, header = true, columns = {columns}, auto_detect = false, "
        "allow_quoted_nulls = false, delim = ',', quote = '\"', escape = '\"')", [str(path)]).fetchall()
    if len(values) != len(lines):
        raise FixtureError(f"{path}: could not read every row (multi-line values are not supported)")
    return header, [(line, list(v)) for line, v in zip(lines, values)]


def _insert(con, path: Path, relation: str, types: dict[str, str], defaults: dict[str, str]) -> None:
    """Insert a CSV's rows into ``relation``, casting each value to its column's type."""
    header, body = _read_csv(con, path)
    unknown = [h for h in header if h not in types]
    if unknown:
        raise FixtureError(f"{path}:1: unknown column(s) {', '.join(unknown)} (columns: {', '.join(types)})")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _p2c_fixture (_line INTEGER, {', '.join(f'{ident(h)} VARCHAR' for h in header)})")
    if body:
        con.executemany(f"INSERT INTO _p2c_fixture VALUES ({', '.join('?' * (len(header) + 1))})",
                        [[line, *values] for line, values in body])
    for column in (h for h in header if types[h].upper() != "VARCHAR"):
        bad = con.execute(
            f"SELECT _line, {ident(column)} FROM _p2c_fixture WHERE {ident(column)} IS NOT NULL "
            f"AND TRY_CAST({ident(column)} AS {types[column]}) IS NULL ORDER BY _line LIMIT 1").fetchone()
        if bad:
            raise FixtureError(f"{path}:{bad[0]}: {column} {bad[1]!r} is not a {types[column]}")
    columns = header + [c for c in defaults if c not in header]
    values = [f"coalesce(CAST({ident(c)} AS {types[c]}), {defaults[c]})" if c in defaults else f"CAST({ident(c)} AS {types[c]})"
              for c in header] + [defaults[c] for c in defaults if c not in header]
    con.execute(f"INSERT INTO {relation} ({column_list(columns)}) SELECT {', '.join(values)} FROM _p2c_fixture ORDER BY _line")
    con.execute("DROP TABLE _p2c_fixture")


def _insert_source(con, path: Path, entity: Entity) -> None:
    types = {**dict(entity.columns), "_p2c_deleted": "BOOLEAN"}
    _insert(con, path, table(SOURCE_SCHEMAS[entity.system], entity.entity_set), types, {"_p2c_deleted": "false"})


def _build_chain(con, project: Project, needed: set[str], stubs: dict[str, Path]) -> None:
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(MODEL_SCHEMA)}")
    for name in project.order:
        if name not in needed:
            continue
        model = project.models[name]
        target = table(MODEL_SCHEMA, name)
        try:
            if name in stubs:
                con.execute(f"CREATE TABLE {target} AS SELECT * FROM ({model.sql}) WHERE false")
                types = dict(con.execute(f"SELECT column_name, data_type FROM information_schema.columns "
                                         f"WHERE table_schema = ? AND table_name = ?", [MODEL_SCHEMA, name]).fetchall())
                _insert(con, stubs[name], target, types, {})
            else:
                con.execute(f"CREATE TABLE {target} AS {model.sql}")
        except duckdb.Error as exc:
            raise TransformError(f"{model.path}: {str(exc).splitlines()[0]}") from exc


def _compare(con, case: Case, project: Project) -> Outcome:
    path = case.path / EXPECTED
    header, body = _read_csv(con, path)
    described = con.execute(f"DESCRIBE {table(MODEL_SCHEMA, case.model)}").fetchall()
    types = {r[0]: r[1] for r in described}
    unknown = [h for h in header if h not in types]
    if unknown:
        raise FixtureError(f"{path}:1: {case.model} has no column(s) {', '.join(unknown)} (columns: {', '.join(types)})")
    numeric = [types[h].upper().startswith(NUMERIC) for h in header]
    casts = ", ".join(f"CAST({ident(h)} AS VARCHAR)" for h in header)
    actual = Counter(_canonical(row, numeric) for row in con.execute(f"SELECT {casts} FROM {table(MODEL_SCHEMA, case.model)}").fetchall())
    expected = Counter(_canonical(values, numeric) for _, values in body)
    missing = sorted((expected - actual).elements(), key=_sort_key)
    extra = sorted((actual - expected).elements(), key=_sort_key)
    return Outcome(case, tuple(header), tuple(missing), tuple(extra))


def _canonical(row, numeric: list[bool]) -> tuple[str | None, ...]:
    return tuple(_number(v) if is_number and v is not None else v for v, is_number in zip(row, numeric))


def _number(text: str) -> str:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return text
    return format(value.normalize(), "f") if value != 0 else "0"


def _sort_key(row: tuple[str | None, ...]) -> tuple:
    return tuple((v is None, v or "") for v in row)
