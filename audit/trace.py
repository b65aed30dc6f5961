"""``p2c trace ENTITY KEY``: one record's story, from the staging database alone.

The asked record is found on its own side (a raw table, by its key or by the column that
feeds a flow's target key), then followed through the flow models to the other side, using
column lineage (transform/lineage.py) to know which source column becomes which target key.
What is collected: every raw version on both sides (``__history``, SCD2 by run), the model
row that gives the target its values (each field with its lineage), the plan entries, each
push with its outcome, and what p2c last wrote (``p2c_meta.pushed``). ``timeline`` puts it
in time order. Finding the records: audit/records.py; collecting what they hold: audit/evidence.py.
"""

from __future__ import annotations

import duckdb

from audit.errors import TraceError
from audit.evidence import collect
from audit.records import from_source, from_target, own_match
from audit.story import Flow, Record, Story
from extract.registry import Entity
from transform.lineage import LineageResolver
from transform.project import Project


def trace(con: duckdb.DuckDBPyConnection, project: Project, entity_spec: str, key: str) -> Story:
    """Everything the staging database knows about one record, on both sides of its flows."""
    entity = resolve_entity(project, entity_spec)
    parts = key.split("/")
    resolver = LineageResolver(project)
    flows = _flows(project, resolver)
    story = Story(entity.label, key)
    targeting = [f for f in flows if (f.system, f.entity) == (entity.system, entity.entity_set)]
    if targeting:
        from_target(con, project, resolver, story, entity, parts, targeting)
    if not story.model_rows:
        from_source(con, project, resolver, story, entity, parts, key, [f for f in flows if f not in targeting])
    if not any(r.side == "asked" for r in story.records):
        match = own_match(con, entity, parts)
        if match is not None:
            story.records.insert(0, Record(entity, "asked", match))
    if not story.records and not story.model_rows:
        raise TraceError(f"trace {entity.label} {key}: no such record in {entity.schema}.{entity.entity_set} "
                         f"(key {'/'.join(entity.key)}), its history or the flow models")
    collect(con, story)
    return story


def resolve_entity(project: Project, spec: str) -> Entity:
    """``accounts``, ``sales.accounts`` or ``CustomersV2`` (case-insensitive) → the declared entity."""
    system, _, name = spec.rpartition(".")
    found = [e for (s, n), e in project.entities.items() if n.lower() == name.lower() and (not system or s == system)]
    if len(found) == 1:
        return found[0]
    if found:
        raise TraceError(f"trace {spec}: declared in both systems; write {' or '.join(e.label for e in found)}")
    raise TraceError(f"trace {spec}: not a declared entity (models/sources/*.toml declare e.g. "
                     f"{', '.join(sorted(e.label for e in project.entities.values())[:4])}, ...)")


def _flows(project: Project, resolver: LineageResolver) -> list[Flow]:
    flows = []
    for model in project.targets():
        target = model.config["target"]
        flows.append(Flow(model, target.get("system"), target.get("entity"), list(target.get("key") or []),
                          frozenset(_reads(project, model.name, set())), resolver))
    return flows


def _reads(project: Project, name: str, seen: set[str]) -> set[tuple[str, str]]:
    """The entities a model reads through ``source()``, directly or through the models it refs."""
    model = project.models.get(name)
    if model is None or name in seen:
        return set()
    seen.add(name)
    found = set(model.sources)
    for parent in model.refs:
        found |= _reads(project, parent, seen)
    return found
