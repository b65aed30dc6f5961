"""Finding a traced record on both sides of its flows.

From the target side, the flow's key names the record and the lineage of its key columns names the
source records; from the source side, the entity's own key (or the column feeding a flow's target
key) names the record and the model rows (or, once the model dropped it, the plan) name the targets.
"""

from __future__ import annotations

import json
from typing import Any

from sqlglot import exp

from audit.db import column, has_table, key_where, match_where, rows, table, table_columns
from audit.story import Flow, Record, Story
from extract.registry import Entity
from transform.errors import TransformError
from transform.lineage import LineageResolver
from transform.project import Project
from transform.render import MODEL_SCHEMA


def _entity(project: Project, label: str) -> Entity | None:
    """The entity of a lineage label (``fno.sellablereleasedproducts``: lineage spells names in lower case)."""
    return next((e for e in project.entities.values() if e.label.lower() == label.lower()), None)


def _feeding(sources: set[str], entity: Entity) -> list[str]:
    """The columns of ``entity`` among lineage sources (``sales.accounts.accountnumber``), as the registry spells them."""
    spelled = {c.lower(): c for c in entity.column_names}
    found = [s.rpartition(".") for s in sources]
    return sorted(spelled.get(column.lower(), column) for label, _, column in found if label.lower() == entity.label.lower())


def from_target(con, project: Project, resolver: LineageResolver, story: Story, entity: Entity, parts: list[str],
                 flows: list[Flow]) -> None:
    """The asked record is a flow target: its key is the flow's key; its sources come from key lineage
    (of the flows that hold a model row for it; of every flow targeting it when none does any more)."""
    candidates = [(flow, dict(zip(flow.key, parts))) for flow in flows if len(parts) == len(flow.key)]
    found = [(flow, match, _model_rows(con, flow, match)) for flow, match in candidates]
    producing = [(flow, match, rows_) for flow, match, rows_ in found if rows_]
    for flow, match, rows_ in producing or [(f, m, r) for f, m, r in found if _raw_exists(con, entity, m)]:
        if not any(r.side == "asked" for r in story.records):
            story.records.append(Record(entity, "asked", match))
        story.model_rows += [_model_row(resolver, flow, row) for row in rows_]
        for source_entity, source_match in _sources_of(con, project, story, flow, match).items():
            story.records.append(Record(source_entity, "source", source_match))


def from_source(con, project: Project, resolver: LineageResolver, story: Story, entity: Entity, parts: list[str],
                key: str, flows: list[Flow]) -> None:
    """The asked record is a source: a flow whose target key is fed by one of its columns leads to the target."""
    own = own_match(con, entity, parts)
    for flow in flows:
        if (entity.system, entity.entity_set) not in flow.reads:
            continue
        target = _entity(project, flow.label)
        for target_column, sources in flow.key_sources.items():
            for source_column in _feeding(sources, entity):
                if own is None and _raw_exists(con, entity, {source_column: key}):
                    own = {source_column: key}
                if own is None:
                    continue
                values = _column_values(con, entity, own, source_column)
                found = [row for value in values for row in _model_rows(con, flow, {target_column: value})]
                story.model_rows += [_model_row(resolver, flow, row) for row in found]
                keys = [{k: _text(row[k]) for k in flow.key} for row in found]
                if not found:  # the model no longer outputs it: what was planned for it still names the target
                    keys = [k for value in values for k in _planned_keys(con, flow, {target_column: value})]
                story.records += [Record(target, "target", k) for k in keys if target is not None]
    if own is not None:
        story.records.insert(0, Record(entity, "asked", own))


def own_match(con, entity: Entity, parts: list[str]) -> dict[str, str] | None:
    if len(parts) != len(entity.key):
        return None
    match = dict(zip(entity.key, parts))
    return match if _raw_exists(con, entity, match) else None


def _raw_exists(con, entity: Entity, match: dict[str, str]) -> bool:
    for name in (entity.entity_set, f"{entity.entity_set}__history"):
        present = set(table_columns(con, entity.schema, name))
        if present and set(match) <= present:
            query = exp.select("1").from_(table(entity.schema, name)).where(match_where(match)).limit(1)
            if con.execute(query.sql("duckdb"), list(match.values())).fetchone():
                return True
    return False


def _column_values(con, entity: Entity, match: dict[str, str], name: str) -> list[str]:
    """Every value ``name`` took in the record's versions (a renumbered record leads to each target)."""
    values: list[str] = []
    for source in (entity.entity_set, f"{entity.entity_set}__history"):
        if name not in table_columns(con, entity.schema, source):
            continue
        query = (exp.select(exp.cast(column(name), "VARCHAR")).distinct().from_(table(entity.schema, source))
                 .where(exp.and_(match_where(match), exp.column(name, quoted=True).is_(exp.null()).not_())))
        values += [v for (v,) in con.execute(query.sql("duckdb"), list(match.values())).fetchall() if v not in values]
    return values


def _sources_of(con, project: Project, story: Story, flow: Flow, match: dict[str, str]) -> dict[Entity, dict[str, str]]:
    """Source records behind a target key: each key column fed by exactly one source column, kept when
    it picks out one record (a line number alone names a line of every order: not followed)."""
    found: dict[Entity, dict[str, str]] = {}
    for target_column, sources in flow.key_sources.items():
        if len(sources) != 1:
            continue
        label, _, source_column = next(iter(sources)).rpartition(".")
        entity = _entity(project, label)
        if entity is not None:
            found.setdefault(entity, {})[_feeding(sources, entity)[0]] = match[target_column]
    unique = {}
    for entity, source_match in found.items():
        count = _count(con, entity, source_match)
        if count <= 1:
            unique[entity] = source_match
        else:
            story.notes.append(f"{entity.label} {_describe(source_match)} matches {count} records: "
                               f"{flow.model.name} builds the key from several sources, not followed")
    return unique


def _count(con, entity: Entity, match: dict[str, str]) -> int:
    present = set(table_columns(con, entity.schema, entity.entity_set))
    if not present or not set(match) <= present:
        return 0
    query = exp.select(exp.func("count", exp.Star())).from_(table(entity.schema, entity.entity_set)).where(match_where(match))
    return con.execute(query.sql("duckdb"), list(match.values())).fetchone()[0]


def _describe(match: dict[str, str]) -> str:
    return ", ".join(f"{k} = {v!r}" for k, v in match.items())


def _planned_keys(con, flow: Flow, partial: dict[str, str]) -> list[dict[str, str]]:
    """Target keys the flow planned (or p2c wrote) whose ``partial`` columns have these values."""
    keys: list[dict[str, str]] = []
    for name in ("plan", "pushed"):
        if not has_table(con, "p2c_meta", name):
            continue
        query = (exp.select(exp.cast(column("key"), "VARCHAR")).distinct().from_(table("p2c_meta", name))
                 .where(exp.and_(exp.column("system").eq(exp.Placeholder()), exp.column("entity").eq(exp.Placeholder()),
                                 key_where(partial))))
        for (text,) in con.execute(query.sql("duckdb"), [flow.system, flow.entity, *partial.values()]).fetchall():
            key = {k: _text(v) for k, v in json.loads(text).items()}
            if key not in keys:
                keys.append(key)
    return keys


def _model_rows(con, flow: Flow, match: dict[str, str]) -> list[dict]:
    present = set(table_columns(con, MODEL_SCHEMA, flow.model.name))
    if not present or not set(match) <= present:
        return []
    query = exp.select("*").from_(table(MODEL_SCHEMA, flow.model.name)).where(match_where(match))
    return rows(con, query, list(match.values()))


def _model_row(resolver: LineageResolver, flow: Flow, row: dict) -> dict:
    fields = []
    for name, value in row.items():
        try:
            lineage = resolver.lineage(flow.model.name, name).as_dict()
        except TransformError:
            lineage = {}
        fields.append({"field": name, "value": value, "sources": lineage.get("sources", []),
                       "seeds": lineage.get("seeds", []), "literals": lineage.get("literals", [])})
    return {"model": flow.model.name, "flow": flow.model.config.get("flow"), "target": flow.label,
            "key": {k: _text(row[k]) for k in flow.key}, "fields": fields}


def _text(value: Any) -> str:
    return "" if value is None else str(value)
