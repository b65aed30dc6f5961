"""Rendering: a model's Jinja SQL → one sqlglot-parsed SELECT, with its dependencies and config.

Jinja only substitutes. The helpers below return SQL text built by sqlglot, so a value an
analyst passes (a company code, a default) always reaches SQL as a quoted literal.
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

from transform.errors import ModelError
from transform.ids import deterministic_id_sql

MODEL_SCHEMA = "models"
SOURCE_SCHEMAS = {"sales": "raw_sales", "fno": "raw_fno"}
CONFIG_KEYS = {"description", "flow", "target"}


@dataclass(frozen=True)
class Model:
    name: str
    path: Path
    sql: str
    config: Mapping[str, Any]
    refs: frozenset[str]
    sources: frozenset[tuple[str, str]]


@dataclass
class _Calls:
    refs: set[str] = field(default_factory=set)
    sources: set[tuple[str, str]] = field(default_factory=set)
    config: dict[str, Any] = field(default_factory=dict)


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
        _check_tables(path, statement, calls)
        return Model(name, path, sql, calls.config, frozenset(calls.refs), frozenset(calls.sources))

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
            calls.config.update(settings)
            return ""

        def var(name: str) -> str:
            if name not in self.variables:
                raise ModelError(f"var({name!r}): no such variable (known: {', '.join(sorted(self.variables))})")
            return _literal(self.variables[name]).sql("duckdb")

        def value_map(seed: str, expression: str, default: Any = None) -> str:
            if seed not in self.seeds:
                raise ModelError(f"value_map({seed!r}, ...): no seed models/seeds/{seed}.csv")
            source_expr = _expression(f"value_map({seed!r}, {expression!r})", expression)
            mapped = (
                exp.select(exp.column("target_value", table="m"))
                .from_(exp.table_(seed, db="seeds", quoted=True).as_("m"))
                .where(
                    exp.EQ(
                        this=exp.func("lower", exp.func("trim", exp.column("source_value", table="m"))),
                        expression=exp.func("lower", exp.func("trim", source_expr)),
                    )
                )
            )
            return exp.func("coalesce", exp.Subquery(this=mapped), _literal(default)).sql("duckdb")

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
        }


def _expression(call: str, text: str) -> exp.Expression:
    try:
        return sqlglot.parse_one(text, read="duckdb")
    except ParseError as exc:
        raise ModelError(f"{call}: not an expression") from exc


def _literal(value: Any) -> exp.Expression:
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


def _check_tables(path: Path, statement: exp.Expression, calls: _Calls) -> None:
    """Every table the SQL reads must come from ref(), source() or a seed, so the graph is complete."""
    ctes = {cte.alias_or_name for cte in statement.find_all(exp.CTE)}
    allowed = {(MODEL_SCHEMA, r) for r in calls.refs} | {(SOURCE_SCHEMAS[s], e) for s, e in calls.sources}
    for table in statement.find_all(exp.Table):
        if not table.db and table.name in ctes:
            continue
        if table.db == "seeds":
            continue
        if (table.db, table.name) not in allowed:
            shown = f"{table.db}.{table.name}" if table.db else table.name
            raise ModelError(f"{path}: table {shown} is read directly; use ref('...') or source('...', '...')")


def _template_line(exc: BaseException, path: Path) -> str:
    """The template line Jinja's rewritten traceback points at, if any."""
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
    return str(lines[-1]) if lines else "?"
