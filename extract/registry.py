"""The source registry: which entity sets exist, their keys and typed columns.

It is data (``models/sources.toml``), read once into frozen ``Entity`` values; one generic
extract loop serves them all.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import ParseError

from extract.errors import ExtractError

SYSTEMS = {"sales": "raw_sales", "fno": "raw_fno"}
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Entity:
    system: str  # "sales" or "fno"
    entity_set: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in declared order

    @property
    def schema(self) -> str:
        return SYSTEMS[self.system]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def label(self) -> str:
        return f"{self.system}.{self.entity_set}"


def load_registry(path: Path) -> dict[tuple[str, str], Entity]:
    """Read ``sources.toml``; every problem is reported with the file and entity at fault."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ExtractError(f"{path}: {exc}") from exc
    entities: dict[tuple[str, str], Entity] = {}
    for system, sets in data.items():
        if system not in SYSTEMS:
            raise ExtractError(f"{path}: unknown system [{system}] (expected one of {', '.join(SYSTEMS)})")
        for entity_set, spec in sets.items():
            entities[(system, entity_set)] = _entity(path, system, entity_set, spec)
    return entities


def _entity(path: Path, system: str, entity_set: str, spec: dict) -> Entity:
    where = f"{path}: [{system}.{entity_set}]"
    columns = spec.get("columns")
    key = spec.get("key")
    if not isinstance(columns, dict) or not columns:
        raise ExtractError(f"{where} needs a non-empty columns table")
    if not isinstance(key, list) or not key:
        raise ExtractError(f"{where} needs a key list")
    for name in [entity_set, *columns]:
        if not _NAME.match(name):
            raise ExtractError(f"{where}: {name!r} is not a valid name")
    for name in key:
        if name not in columns:
            raise ExtractError(f"{where}: key column {name!r} is not among its columns")
    for name, type_ in columns.items():
        try:
            exp.DataType.build(type_, dialect="duckdb")
        except (ParseError, ValueError) as exc:
            raise ExtractError(f"{where}: column {name!r} has unknown type {type_!r}") from exc
    return Entity(system, entity_set, tuple(key), tuple(columns.items()))
