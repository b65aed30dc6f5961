"""Rendering: a model's Jinja SQL → one sqlglot-parsed SELECT, with its dependencies and config.

Jinja only substitutes. The helpers below return SQL text built by sqlglot, so a value an
analyst passes (a company code, a default) always reaches SQL as a quoted literal:

    source('sales', 'accounts')   ref('stg_sales__accounts')   var('fno_company')
    config(flow=..., description=..., target={...}, checks=[...])
    value_map('country', 'a.address1_country', default='US')   (no default=: coverage is checked)
    deterministic_id('salesorders', 'o.ordernumber')
    latest_per_key(source('sales', 'accounts'), 'accountnumber', 'modifiedon desc, accountid')
    blank_to('a.address1_country', 'US')                        (null or blank → the default)
"""

from __future__ import annotations

import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

from transform.check_specs import Check, parse_checks
from transform.errors import ModelError
from transform.ids import deterministic_id_sql
from transform.seeds import SEED_SCHEMA, VALUE_MAP_COLUMNS, value_map_header_error

MODEL_SCHEMA = "models"
SOURCE_SCHEMAS = {"sales": "raw_sales", "fno": "raw_fno"}
SYSTEM_OF = {schema: system for system, schema in SOURCE_SCHEMAS.items()}
CONFIG_KEYS = {"description", "flow", "target", "checks"}


@dataclass(frozen=True)
class ValueMapCall:
    """One ``value_map()`` in a model: its seed, source expression and the alias marking its lookup."""

    seed: str
    expression: str
    alias: str
    has_default: bool


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sql: str
    config: Mapping[str, Any]
    refs: frozenset[str]
    sources: frozenset[tuple[str, str]]
    value_maps: tuple[ValueMapCall, ...] = ()
    seeds: frozenset[str] = frozenset()

    @property
    def checks(self) -> tuple[Check, ...]:
        return parse_checks(self.path, self.config.get("checks", ()))

    @property
    def depends_on(self) -> frozenset[str]:
        """Models this one reads (``ref()``) or its checks compare against (``relationships``)."""
        related = {c.args["to"] for c in self.checks if c.kind == "relationships"} - {self.name}
        return self.refs | frozenset(related)


@dataclass
class _Calls:
    refs: set[str] = field(default_factory=set)
    sources: set[tuple[str, str]] = field(default_factory=set)
    config: dict[str, Any] = field(default_factory=dict)
    value_maps: list[ValueMapCall] = field(default_factory=list)


class Renderer:
    """Renders models with the project's names, sources, seeds and variables in scope."""

    def __init__(
        self,
        models_dir: Path,
        *,
        model_names: set[str],
        sources: set[tuple[str, str]],
        seeds: set[str],
        variables: Mapping[str, Any],
    ) -> None:
        self.models_dir = models_dir
        self.model_names = model_names
        self.known_sources = sources
        self.seeds = seeds
        self.variables = dict(variables)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(models_dir)),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,
        )

    def render(self, path: Path) -> Model:
        calls = _Calls()
        name = path.stem
        try:
            template = self.env.get_template(path.relative_to(self.models_dir).as_posix())
            sql = template.render(**self._helpers(name, calls))
        except jinja2.TemplateSyntaxError as exc:
            raise ModelError(f"{path}:{exc.lineno}: Jinja syntax error: {exc.message}") from exc
        except ModelError as exc:
            raise ModelError(f"{path}:{_template_line(exc, path)}: {exc}") from exc
        except jinja2.UndefinedError as exc:
            raise ModelError(f"{path}:{_template_line(exc, path)}: {exc.message}") from exc
        statement = _parse(path, sql)
        _check_tables(path, statement, calls, set(self.seeds))
        seeds = frozenset(t.name for t in statement.find_all(exp.Table) if t.db == SEED_SCHEMA)
        model = Model(name, path, sql, calls.config, frozenset(calls.refs), frozenset(calls.sources),
                      tuple(calls.value_maps), seeds)
        for check in model.checks:
            if check.kind == "relationships" and check.args["to"] not in self.model_names:
                raise ModelError(f"{path}: check relationships: no model named {check.args['to']!r}")
        return model

    def _helpers(self, current: str, calls: _Calls) -> dict[str, Any]:
        def ref(name: str) -> str:
            if name not in self.model_names:
                raise ModelError(f"ref({name!r}): no model named {name!r}")
            if name == current:
                raise ModelError(f"ref({name!r}): a model cannot select from itself")
            calls.refs.add(name)
            return exp.table_(name, db=MODEL_SCHEMA, quoted=True).sql("duckdb")

        def source(system: str, entity_set: str) -> str:
            if (system, entity_set) not in self.known_sources:
                raise ModelError(f"source({system!r}, {entity_set!r}): not declared in sources.toml")
            calls.sources.add((system, entity_set))
            return exp.table_(entity_set, db=SOURCE_SCHEMAS[system], quoted=True).sql("duckdb")

        def config(**settings: Any) -> str:
            unknown = set(settings) - CONFIG_KEYS
            if unknown:
                raise ModelError(f"config(): unknown setting(s) {', '.join(sorted(unknown))}")
            if "checks" in settings:
                parse_checks(None, settings["checks"])
            calls.config.update(settings)
            return ""

        def var(name: str) -> str:
            if name not in self.variables:
                raise ModelError(f"var({name!r}): no such variable (known: {', '.join(sorted(self.variables))})")
            return _VarSql(self.variables[name])

        def value_map(seed: str, expression: str, default: Any = _NO_DEFAULT) -> str:
            if seed not in self.seeds:
                raise ModelError(f"value_map({seed!r}, ...): no seed models/seeds/{seed}.csv")
            seed_path = self.models_dir / "seeds" / f"{seed}.csv"
            problem = value_map_header_error(seed_path) if seed_path.is_file() else None
            if problem:
                raise ModelError(f"value_map({seed!r}, ...): {problem}")
            source_expr = _expression(f"value_map({seed!r}, {expression!r})", expression)
            clash = [c.name for c in source_expr.find_all(exp.Column) if not c.table and c.name.lower() in VALUE_MAP_COLUMNS]
            if clash:
                raise ModelError(f"value_map({seed!r}, {expression!r}): qualify {clash[0]} with its table alias "
                                 "(the lookup's own columns are named source_value and target_value)")
            alias = f"_p2c_vm{len(calls.value_maps) + 1}"
            calls.value_maps.append(ValueMapCall(seed, source_expr.sql("duckdb"), alias, default is not _NO_DEFAULT))
            mapped = (
                exp.select(exp.column("target_value", table=alias))
                .from_(exp.table_(seed, db="seeds", quoted=True).as_(alias))
                .where(
                    exp.EQ(
                        this=exp.func("lower", exp.func("trim", exp.column("source_value", table=alias))),
                        expression=exp.func("lower", exp.func("trim", source_expr)),
                    )
                )
            )
            if default is _NO_DEFAULT:
                return exp.Subquery(this=mapped).sql("duckdb")
            return exp.func("coalesce", exp.Subquery(this=mapped), _literal(default)).sql("duckdb")

        def latest_per_key(relation: str, key: str, order_by: str) -> str:
            """``(SELECT * FROM relation QUALIFY row_number() OVER (PARTITION BY key ORDER BY order_by) = 1)``."""
            call = f"latest_per_key({relation!r}, {key!r}, {order_by!r})"
            try:
                table = exp.to_table(relation, dialect="duckdb")
            except (ParseError, ValueError) as exc:
                raise ModelError(f"{call}: the first argument must be ref(...) or source(...)") from exc
            if not table.db:
                raise ModelError(f"{call}: the first argument must be ref(...) or source(...)")
            partition = [_expression(call, part) for part in _split(key)]
            order = _order(call, order_by)
            window = exp.Window(this=exp.RowNumber(), partition_by=partition, order=exp.Order(expressions=order))
            latest = exp.select("*").from_(table).qualify(exp.EQ(this=window, expression=exp.Literal.number(1)))
            return exp.Subquery(this=latest).sql("duckdb")

        def blank_to(expression: str, default: Any) -> str:
            """The expression, or ``default`` where it is null or only blanks."""
            value = _expression(f"blank_to({expression!r}, ...)", expression)
            trimmed = exp.func("nullif", exp.func("trim", value), exp.Literal.string(""))
            return exp.func("coalesce", trimmed, _literal(default)).sql("duckdb")

        def deterministic_id(entity_set: str, *expressions: str) -> str:
            if not expressions:
                raise ModelError(f"deterministic_id({entity_set!r}): name the natural key expression(s)")
            parts = [_expression(f"deterministic_id({entity_set!r}, {e!r})", e) for e in expressions]
            return deterministic_id_sql(entity_set, parts).sql("duckdb")

        return {
            "ref": ref,
            "source": source,
            "config": config,
            "var": var,
            "value_map": value_map,
            "deterministic_id": deterministic_id,
            "latest_per_key": latest_per_key,
            "blank_to": blank_to,
        }


_NO_DEFAULT = object()


class _VarSql(str):
    """``var()``'s result: SQL literal text in a template, the plain value when passed to a helper."""

    def __new__(cls, value: Any) -> _VarSql:
        text = super().__new__(cls, _literal(value).sql("duckdb"))
        text.value = value
        return text


def _split(text: str) -> list[str]:
    return [part.strip() for part in str(text).split(",") if part.strip()]


def _order(call: str, text: str) -> list[exp.Expression]:
    try:
        ordered = sqlglot.parse_one(f"SELECT 1 ORDER BY {text}", read="duckdb").args["order"].expressions
    except (ParseError, KeyError, AttributeError) as exc:
        raise ModelError(f"{call}: not an ORDER BY list") from exc
    return ordered


def _expression(call: str, text: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        raise ModelError(f"{call}: not an expression") from exc


def literal(value: Any) -> exp.Expression:
    """A Python value as a SQL literal (strings quoted by sqlglot)."""
    return _literal(value)


def _literal(value: Any) -> exp.Expression:
    if isinstance(value, _VarSql):
        value = value.value
    if value is None:
        return exp.null()
    if isinstance(value, bool):
        return exp.true() if value else exp.false()
    if isinstance(value, (int, float)):
        return exp.Literal.number(value)
    return exp.Literal.string(str(value))


def _parse(path: Path, sql: str) -> exp.Expression:
    try:
        statements = [s for s in sqlglot.parse(sql, read="duckdb") if s is not None]
    except ParseError as exc:
        error = exc.errors[0] if exc.errors else {}
        line = error.get("line", "?")
        description = error.get("description") or str(exc).splitlines()[0]
        raise ModelError(f"{path}:{line}: SQL syntax error: {description}") from exc
    if len(statements) != 1 or not isinstance(statements[0], exp.Query):
        raise ModelError(f"{path}: a model must be exactly one SELECT statement")
    return statements[0]


def _check_tables(path: Path, statement: exp.Expression, calls: _Calls, self_seeds: set[str]) -> None:
    """Every table the SQL reads must come from ref(), source() or a seed, so the graph is complete."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    allowed = {(MODEL_SCHEMA, r) for r in calls.refs} | {(SOURCE_SCHEMAS[s], e) for s, e in calls.sources}
    read = {(t.db, t.name) for t in statement.find_all(exp.Table)}
    for schema, name in sorted(allowed - read):
        call = f"ref({name!r})" if schema == MODEL_SCHEMA else f"source({SYSTEM_OF[schema]!r}, {name!r})"
        raise ModelError(f"{path}: {call} is called but the SQL never reads its table (a comment?); "
                         "the graph would gain a dependency the query does not have")
    for table in statement.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        if table.db == SEED_SCHEMA:
            if table.name not in self_seeds:
                raise ModelError(f"{path}: table seeds.{table.name}: no seed models/seeds/{table.name}.csv")
            continue
        if (table.db, table.name) not in allowed:
            shown = f"{table.db}.{table.name}" if table.db else table.name
            raise ModelError(f"{path}: table {shown} is read directly; use ref('...') or source('...', '...')")


def _template_line(exc: BaseException, path: Path) -> str:
    """The template line Jinja's rewritten traceback points at, if any."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return str(lines[-1]) if lines else "?"
