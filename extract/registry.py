"""The source registry: which entity sets exist, their keys and typed columns.

It is data (``models/sources.toml`` and any ``models/sources/*.toml``, one file per flow if
the analysts like), read once into frozen ``Entity`` values; one generic extract loop serves
them all. An entity set is declared once, in whichever file first needs it. Each entity names how it is read after the first time:

- ``change_tracking`` (Sales): Dataverse change tracking, a delta from the stored deltaLink
  (protocols.md 1.4);
- ``full`` (the default, and all F&O can do: protocols.md 2.7): every row again, compared
  by row hash, and rows no longer there marked deleted.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp
from sqlglot.errors import ParseError

from extract.errors import ExtractError

SYSTEMS = {"sales": "raw_sales", "fno": "raw_fno"}
STRATEGIES = {"sales": ("change_tracking", "full"), "fno": ("full",)}
TRACKING_MEMBERS = ("id", "reason")  # what a $deletedEntity row carries (protocols.md 1.4)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Entity:
    system: str  # "sales" or "fno"
    entity_set: str
    key: tuple[str, ...]
    columns: tuple[tuple[str, str], ...]  # (name, DuckDB type), in declared order
    incremental: str = "full"  # one of STRATEGIES[system]

    @property
    def schema(self) -> str:
        return SYSTEMS[self.system]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.columns)

    @property
    def label(self) -> str:
        return f"{self.system}.{self.entity_set}"

    @property
    def change_tracked(self) -> bool:
        return self.incremental == "change_tracking"


def registry_files(models_dir: Path) -> list[Path]:
    """``sources.toml`` and every ``sources/*.toml`` of a models folder, in a stable order."""
    files = [models_dir / "sources.toml"] if (models_dir / "sources.toml").is_file() else []
    files += sorted((models_dir / "sources").glob("*.toml"))
    if not files:
        raise ExtractError(f"{models_dir}: no sources.toml nor sources/*.toml declares what to extract")
    return files


def load_project_registry(models_dir: Path) -> dict[tuple[str, str], Entity]:
    """Every entity the models folder declares; one declared in two files is an error naming both."""
    entities: dict[tuple[str, str], Entity] = {}
    declared_in: dict[tuple[str, str], Path] = {}
    for path in registry_files(models_dir):
        for key, entity in load_registry(path).items():
            if key in entities:
                raise ExtractError(f"{path}: [{entity.label}] is already declared in {declared_in[key]}")
            entities[key] = entity
            declared_in[key] = path
    return entities


def load_registry(path: Path) -> dict[tuple[str, str], Entity]:
    """Read one sources file; every problem is reported with the file and entity at fault."""
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
    incremental = spec.get("incremental", "full")
    if incremental not in STRATEGIES[system]:
        raise ExtractError(f"{where}: incremental = {incremental!r} is not one of {', '.join(STRATEGIES[system])}")
    if incremental == "change_tracking" and (len(key) != 1 or set(TRACKING_MEMBERS) & set(columns)):
        raise ExtractError(f"{where}: change tracking needs a single-column key and no column named id or reason")
    return Entity(system, entity_set, tuple(key), tuple(columns.items()), incremental)


def select_entities(
    entities: Sequence[Entity], selectors: Iterable[str], needs: Mapping[str, Iterable[tuple[str, str]]]
) -> list[Entity]:
    """The ``entities`` a ``--select`` names: by label (``sales.accounts``) or by a model that needs them.

    ``needs`` maps each model name to the (system, entity set) pairs it reads, directly or
    through the models it refers to. No selectors keeps every entity.
    """
    selectors = list(selectors)
    if not selectors:
        return list(entities)
    by_label = {e.label: (e.system, e.entity_set) for e in entities}
    wanted: set[tuple[str, str]] = set()
    for name in selectors:
        if name in by_label:
            wanted.add(by_label[name])
        elif name in needs:
            wanted.update(needs[name])
        else:
            known = ", ".join(sorted(by_label))
            raise ExtractError(f"--select {name}: not an extracted entity ({known}) nor a model")
    return [e for e in entities if (e.system, e.entity_set) in wanted]
