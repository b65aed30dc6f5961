"""Checks run on a built model: the declared ones, the target key's, and value-map coverage.

Each check is a query for the offending rows; a check fails when it finds any, and reports the
count and the first ten. Results are kept in ``p2c_meta.check_results`` for auditors, and a
model whose latest checks failed is not planned (see ``transform.build.unbuildable``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb
import sqlglot
from sqlglot import exp

from transform.check_specs import Check
from transform.render import MODEL_SCHEMA, Model, literal
from transform.seeds import SEED_SCHEMA

SHOW = 10


@dataclass(frozen=True)
class CheckResult:
    model: str
    check: str
    status: str  # "pass", "fail" or "error" (the check itself could not run)
    failing: int = 0
    sample: list[dict[str, Any]] = field(default_factory=list)  # the first ten offending rows
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def model_checks(model: Model) -> list[Check]:
    """The implied checks (target key unique and not null, value-map coverage), then the declared."""
    implied: list[Check] = []
    target = model.config.get("target")
    if isinstance(target, dict) and target.get("key"):
        key = tuple(target["key"])
        implied += [Check("not_null", {"columns": key}, "target key"), Check("unique", {"columns": key}, "target key")]
    for call in model.value_maps:
        if not call.has_default:
            implied.append(Check("value_map_coverage", {"seed": call.seed, "expression": call.expression,
                                                        "alias": call.alias}, "value_map() without default="))
    return implied + list(model.checks)


def run_checks(con: duckdb.DuckDBPyConnection, model: Model, relation: exp.Table | None = None) -> list[CheckResult]:
    """Run every check of ``model`` against its table (by default ``models.<name>``)."""
    relation = relation or exp.table_(model.name, db=MODEL_SCHEMA, quoted=True)
    columns = {r[0] for r in con.execute(f"DESCRIBE {relation.sql('duckdb')}").fetchall()}
    return [_run(con, model, check, relation, columns) for check in model_checks(model)]


def _run(con, model: Model, check: Check, relation: exp.Table, columns: set[str]) -> CheckResult:
    missing = [c for c in _columns_named(check) if c not in columns]
    if missing:
        return CheckResult(model.name, check.label, "error",
                           message=f"{model.path}: check {check.label}: column(s) {', '.join(missing)} not in the model's output")
    try:
        query = _offending(model, check, relation)
        count = con.execute(exp.select(exp.func("count", exp.Star())).from_(query.subquery("o")).sql("duckdb")).fetchone()[0]
        sample = []
        if count:
            cursor = con.execute(query.limit(SHOW).sql("duckdb"))
            names = [d[0] for d in cursor.description]
            sample = [{n: _jsonable(v) for n, v in zip(names, row)} for row in cursor.fetchall()]
    except (duckdb.Error, sqlglot.errors.SqlglotError) as exc:
        return CheckResult(model.name, check.label, "error",
                           message=f"{model.path}: check {check.label} could not run: {str(exc).splitlines()[0]}")
    if not count:
        return CheckResult(model.name, check.label, "pass")
    shown = "; ".join(", ".join(f"{k}={v!r}" for k, v in row.items()) for row in sample[:3])
    more = f" (first {len(sample)} kept)" if count > 3 else ""
    return CheckResult(model.name, check.label, "fail", count, sample,
                       f"{model.path}: check {check.label} failed: {count} offending row(s), e.g. {shown}{more}")


def _columns_named(check: Check) -> list[str]:
    if check.kind in ("unique", "not_null"):
        return list(check.args["columns"])
    if check.kind in ("accepted_values", "relationships"):
        return [check.args["column"]]
    return []


def _offending(model: Model, check: Check, relation: exp.Table) -> exp.Select:
    t = relation.copy().as_("t")
    col = lambda name: exp.column(name, table="t", quoted=True)  # noqa: E731
    if check.kind == "unique":
        cols = [col(c) for c in check.args["columns"]]
        any_value = exp.or_(*[exp.not_(c.copy().is_(exp.null())) for c in cols])  # all-null keys: not_null's job
        return (exp.select(*cols, exp.func("count", exp.Star()).as_("rows")).from_(t).where(any_value).group_by(*cols)
                .having(exp.GT(this=exp.func("count", exp.Star()), expression=exp.Literal.number(1))).order_by(*cols))
    if check.kind == "not_null":
        return exp.select("t.*").from_(t).where(exp.or_(*[col(c).is_(exp.null()) for c in check.args["columns"]]))
    if check.kind == "accepted_values":
        column = col(check.args["column"])
        accepted = [literal(v) for v in check.args["values"]]
        return exp.select("t.*").from_(t).where(exp.and_(exp.not_(column.is_(exp.null())), exp.not_(column.isin(*accepted))))
    if check.kind == "relationships":
        column = col(check.args["column"])
        parent = exp.table_(check.args["to"], db=MODEL_SCHEMA, quoted=True).as_("r")
        match = exp.select(exp.Literal.number(1)).from_(parent).where(
            exp.EQ(this=exp.column(check.args["field"], table="r", quoted=True), expression=column))
        return exp.select("t.*").from_(t).where(
            exp.and_(exp.not_(column.is_(exp.null())), exp.not_(exp.Exists(this=match))))
    if check.kind == "row_count":
        count = exp.func("count", exp.Star())
        bounds = []
        if "min" in check.args:
            bounds.append(exp.LT(this=count.copy(), expression=exp.Literal.number(check.args["min"])))
        if "max" in check.args:
            bounds.append(exp.GT(this=count.copy(), expression=exp.Literal.number(check.args["max"])))
        return exp.select(count.as_("rows")).from_(t).having(exp.or_(*bounds))
    if check.kind == "value_map_coverage":
        return _unmapped(model, check.args)
    raise ValueError(f"unknown check kind {check.kind}")


def _unmapped(model: Model, args: dict[str, Any]) -> exp.Select:
    """Distinct source values met by a ``value_map()`` that have no mapping row.

    The query re-runs the SELECT that holds the ``value_map()`` (same FROM, joins and filters),
    projecting the source expression instead of the model's columns.
    """
    statement = sqlglot.parse_one(model.sql, read="duckdb")
    holder = None
    for table in statement.find_all(exp.Table):
        if table.alias == args["alias"] and table.db == SEED_SCHEMA:
            holder = table.find_ancestor(exp.Subquery).find_ancestor(exp.Select)
            break
    if holder is None:
        raise sqlglot.errors.SqlglotError(f"value_map lookup {args['alias']} not found in the rendered SQL")
    scope = holder.copy()
    for part in ("order", "limit", "offset", "distinct"):
        scope.set(part, None)
    scope.set("expressions", [sqlglot.parse_one(args["expression"], read="duckdb").as_("source_value")])
    if holder is not statement and statement.args.get("with") is not None and scope.args.get("with") is None:
        scope.set("with", statement.args["with"].copy())
    value = exp.column("source_value", table="v")
    seed = exp.table_(args["seed"], db=SEED_SCHEMA, quoted=True).as_("m")
    normal = lambda e: exp.func("lower", exp.func("trim", e))  # noqa: E731
    mapped = exp.select(exp.Literal.number(1)).from_(seed).where(
        exp.EQ(this=normal(exp.column("source_value", table="m")), expression=normal(value)))
    return (exp.select(value).distinct().from_(scope.subquery("v"))
            .where(exp.and_(exp.not_(value.is_(exp.null())), exp.not_(exp.Exists(this=mapped)))).order_by(value))


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)


def record_checks(con: duckdb.DuckDBPyConnection, run_id: int, results: Iterable[CheckResult]) -> None:
    """Keep check outcomes (with up to ten offending rows) in ``p2c_meta.check_results``."""
    ensure_check_table(con)
    checked_at = datetime.now(timezone.utc).replace(tzinfo=None)  # one pass, one time: the latest pass wins
    rows = [[run_id, r.model, r.check, r.status, r.failing, json.dumps(r.sample), r.message, checked_at] for r in results]
    if rows:
        con.executemany("INSERT INTO p2c_meta.check_results VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)


def failed_checks(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Per model, the first failing check message of its latest check pass (a run's later wave re-checks a
    model under the same run id, so the pass is found by run and time); models whose checks pass are absent."""
    ensure_check_table(con)
    return {
        model: (run_id, message)
        for model, run_id, message in con.execute(
            "WITH passes AS (SELECT model, run_id, checked_at, row_number() OVER ("
            " PARTITION BY model ORDER BY run_id DESC, checked_at DESC) AS newest"
            " FROM (SELECT DISTINCT model, run_id, checked_at FROM p2c_meta.check_results)) "
            "SELECT c.model, c.run_id, min(c.message) FROM p2c_meta.check_results c JOIN passes p USING (model, run_id, checked_at) "
            "WHERE p.newest = 1 AND c.status <> 'pass' GROUP BY c.model, c.run_id"
        ).fetchall()
    }


def ensure_check_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.check_results (run_id BIGINT, model VARCHAR, \"check\" VARCHAR,"
        " status VARCHAR, failing BIGINT, sample JSON, message VARCHAR, checked_at TIMESTAMP)"
    )


def check_models(con: duckdb.DuckDBPyConnection, project, selectors: Iterable[str] = ()) -> list[CheckResult]:
    """Run the checks of the selected models (default all) against their built tables."""
    from transform.graph import select

    names = select(project.models, selectors) if selectors else set(project.models)
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", [MODEL_SCHEMA]).fetchall()}
    results: list[CheckResult] = []
    for name in project.order:
        if name not in names:
            continue
        model = project.models[name]
        if name not in present:
            results.append(CheckResult(name, "built", "error", message=f"{model.path}: not built yet; run `p2c build`"))
            continue
        results += run_checks(con, model)
    return results
