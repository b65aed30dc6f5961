"""Column lineage: which raw source columns, seed columns and literals feed a model column.

Each model's SQL is qualified by sqlglot against the registry, the seeds and the upstream
models' columns (so ``select *`` expands), then a column is traced through CTEs, subqueries
and upstream models down to the raw tables. Filters and join conditions are not lineage; the
value-map lookup (the seed's ``source_value`` matched against a source column) is.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import Scope, build_scope

from extract.land import META_COLUMNS
from transform.errors import ModelError
from transform.project import Project
from transform.render import MODEL_SCHEMA, SOURCE_SCHEMAS, Model
from transform.seeds import SEED_SCHEMA, seed_files

SYSTEM_OF_SCHEMA = {schema: system for system, schema in SOURCE_SCHEMAS.items()}
# a literal is a value a column can take only if every node above it (up to the column) is one of these
_VALUE_PATH = (exp.Alias, exp.Paren, exp.Coalesce, exp.Cast, exp.TryCast, exp.Case, exp.If, exp.Nullif, exp.Subquery)


@dataclass
class Lineage:
    model: str
    column: str
    sources: set[str] = field(default_factory=set)  # "sales.accounts.address1_country"
    seeds: set[str] = field(default_factory=set)  # "country.target_value"
    literals: set[str] = field(default_factory=set)  # "'US'"
    via: set[str] = field(default_factory=set)  # upstream model columns passed through

    def as_dict(self) -> dict:
        return {"model": self.model, "column": self.column, "sources": sorted(self.sources),
                "seeds": sorted(self.seeds), "literals": sorted(self.literals), "via": sorted(self.via)}


class LineageResolver:
    """Traces columns through a project's models; qualified models are cached."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.schema: dict[str, dict[str, dict[str, str]]] = {SEED_SCHEMA: {}, MODEL_SCHEMA: {}}
        for (system, entity_set), entity in project.entities.items():
            columns = {**dict(entity.columns), **dict(META_COLUMNS)}
            self.schema.setdefault(SOURCE_SCHEMAS[system], {})[entity_set] = columns
        for name, path in seed_files(project.seeds_dir).items():
            with path.open(newline="", encoding="utf-8-sig") as handle:
                header = next(csv.reader(handle), [])
            self.schema[SEED_SCHEMA][name] = {h.strip(): "VARCHAR" for h in header}
        self._qualified: dict[str, exp.Expression] = {}
        self._names: dict[str, list[str]] = {}
        self._cache: dict[tuple[str, str], Lineage] = {}

    def columns(self, name: str) -> list[str]:
        """Output columns as the model spells them (sqlglot's qualify lower-cases them)."""
        self._model_sql(name)
        return self._names[name]

    def lineage(self, name: str, column: str) -> Lineage:
        statement = self._model_sql(name)
        spelled = {c.lower(): c for c in self.columns(name)}
        if column.lower() not in spelled:
            model = self.project.models[name]
            raise ModelError(f"{model.path}: model {name} has no column {column!r} "
                             f"(columns: {', '.join(self.columns(name))})")
        column = spelled[column.lower()]
        key = (name, column)
        if key not in self._cache:
            result = Lineage(name, column)
            self._trace(build_scope(statement), column, result)
            self._cache[key] = result
        return self._cache[key]

    def _model_sql(self, name: str) -> exp.Expression:
        if name not in self._qualified:
            model = self._model(name)
            for parent in sorted(model.refs):
                self.schema[MODEL_SCHEMA][parent] = {c: "VARCHAR" for c in self.columns(parent)}
            try:
                original = sqlglot.parse_one(model.sql, read="duckdb")
                schema = {db: tables for db, tables in self.schema.items() if tables}
                self._qualified[name] = qualify(
                    sqlglot.parse_one(model.sql, read="duckdb"), schema=schema, dialect="duckdb",
                    validate_qualify_columns=False, identify=False,
                )
            except sqlglot.errors.SqlglotError as exc:
                raise ModelError(f"{model.path}: lineage cannot resolve the columns: {str(exc).splitlines()[0]}") from exc
            spelled = {c.lower(): c for c in original.named_selects if c != "*"}
            for parent in model.refs:
                spelled.update({c.lower(): c for c in self._names.get(parent, [])})
            for table in self.schema.values():
                for columns in table.values():
                    spelled.update({c.lower(): c for c in columns if c.lower() not in spelled})
            self._names[name] = [spelled.get(c.lower(), c) for c in self._qualified[name].named_selects]
        return self._qualified[name]

    def _model(self, name: str) -> Model:
        if name not in self.project.models:
            if name in self.project.errors:
                raise self.project.errors[name]
            raise ModelError(f"no model named {name!r}")
        return self.project.models[name]

    def _trace(self, scope: Scope, column: str, result: Lineage, position: int | None = None) -> None:
        statement = scope.expression
        if isinstance(statement, exp.SetOperation):
            if position is None:
                names = [n.lower() for n in statement.named_selects]
                position = names.index(column.lower()) if column.lower() in names else None
            for branch in scope.set_operation_scopes:
                self._trace(branch, column, result, position)  # union branches match by position
            return
        if position is not None:
            projection = statement.selects[position] if position < len(statement.selects) else None
        else:
            projection = next((p for p in statement.selects if p.alias_or_name.lower() == column.lower()), None)
        if projection is None:
            return
        for literal in projection.find_all(exp.Literal, exp.Null, exp.Boolean):
            if _is_value(literal, projection):
                result.literals.add(literal.sql("duckdb"))
        for col in projection.find_all(exp.Column):
            self._resolve(scope, col, result)
        for table in projection.find_all(exp.Table):
            if table.db == SEED_SCHEMA:
                result.seeds |= _constant_lookups(table)


    def _resolve(self, scope: Scope, col: exp.Column, result: Lineage) -> None:
        owner = _scope_of(scope, col)
        while owner is not None and col.table not in owner.sources:
            owner = owner.parent
        if owner is None:
            return
        source = owner.sources[col.table]
        if isinstance(source, Scope):
            self._trace(source, col.name, result)
        elif isinstance(source, exp.Table):
            self._leaf(source, col.name, result)

    def _leaf(self, table: exp.Table, column: str, result: Lineage) -> None:
        declared = next((cols for t, cols in self.schema.get(table.db, {}).items() if t.lower() == table.name.lower()), {})
        column = next((c for c in declared if c.lower() == column.lower()), column)
        if table.db == SEED_SCHEMA:
            result.seeds.add(f"{table.name}.{column}")
        elif table.db == MODEL_SCHEMA:
            result.via.add(f"{table.name}.{column}")
            upstream = self.lineage(table.name, column)
            result.sources |= upstream.sources
            result.seeds |= upstream.seeds
            result.literals |= upstream.literals
            result.via |= upstream.via
        elif table.db in SYSTEM_OF_SCHEMA:
            result.sources.add(f"{SYSTEM_OF_SCHEMA[table.db]}.{table.name}.{column}")


def _scope_of(scope: Scope, node: exp.Expression) -> Scope:
    """The innermost scope (of ``scope`` and its subquery scopes) whose SELECT holds ``node``."""
    select = node.find_ancestor(exp.Select)
    for inner in scope.traverse():
        if inner.expression is select:
            return inner
    return scope


def _is_value(literal: exp.Expression, projection: exp.Expression) -> bool:
    node, parent = literal, literal.parent
    while node is not projection and parent is not None:
        if not isinstance(parent, _VALUE_PATH):
            return False
        if isinstance(parent, (exp.If,)) and node is parent.args.get("this"):
            return False
        if isinstance(parent, exp.Case) and node is parent.args.get("this"):
            return False
        node, parent = parent, parent.parent
    return True


def target_models(project: Project, entity: str) -> list[Model]:
    """Flow models whose target entity is ``entity`` (case-insensitive)."""
    return [m for m in project.targets() if str(m.config["target"].get("entity", "")).lower() == entity.lower()]


def lineage_of(project: Project, spec: str) -> list[Lineage]:
    """``ENTITY.FIELD`` (every flow model targeting it) or ``MODEL.COLUMN``."""
    name, _, column = spec.rpartition(".")
    if not name or not column:
        raise ModelError(f"lineage {spec!r}: give MODEL.COLUMN or ENTITY.FIELD, e.g. CustomersV2.CustomerGroupId")
    resolver = LineageResolver(project)
    if name in project.models or name in project.errors:
        return [resolver.lineage(name, column)]
    models = target_models(project, name)
    if not models:
        raise ModelError(f"lineage {spec!r}: {name!r} is neither a model nor the target entity of a flow model")
    found = [resolver.lineage(m.name, column) for m in models
             if column.lower() in {c.lower() for c in resolver.columns(m.name)}]
    if not found:
        raise ModelError(f"lineage {spec!r}: no flow model targeting {name} outputs {column!r} "
                         f"(models: {', '.join(m.name for m in models)})")
    return found


def describe(found: Mapping[str, Lineage] | list[Lineage]) -> list[str]:
    """Text lines for ``p2c lineage``."""
    lines = []
    for item in found if isinstance(found, list) else found.values():
        lines.append(f"{item.model}.{item.column}")
        lines += [f"  source   {s}" for s in sorted(item.sources)]
        lines += [f"  seed     {s}" for s in sorted(item.seeds)]
        lines += [f"  literal  {s}" for s in sorted(item.literals)]
        lines += [f"  via      {s}" for s in sorted(item.via)]
        if not (item.sources or item.seeds or item.literals):
            lines.append("  (no inputs found)")
    return lines


def _constant_lookups(table: exp.Table) -> set[str]:
    """``seed[key]`` for a value-map lookup of a constant key, e.g. ``customer_defaults['SiteId']``."""
    where = table.find_ancestor(exp.Select).args.get("where")
    found = set()
    for eq in where.find_all(exp.EQ) if where else ():
        for side, other in ((eq.this, eq.expression), (eq.expression, eq.this)):
            if side.find(exp.Column) is not None and other.find(exp.Column) is None and other.find(exp.Literal):
                found.add(f"{table.name}[{other.find(exp.Literal).sql('duckdb')}]")
    return found
