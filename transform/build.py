"""Materialise models as tables in dependency order, one transaction per model.

A model that fails leaves its previous table untouched, and nothing downstream of it is
rebuilt; the rest of the graph still builds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import duckdb

from extract.sql import ident, table
from transform.checks import check_model
from transform.graph import downstream
from transform.project import Project
from transform.render import MODEL_SCHEMA
from transform.seeds import load_seeds


@dataclass(frozen=True)
class ModelResult:
    model: str
    status: str  # "ok", "error", "check_failed" or "skipped"
    rows: int = 0
    seconds: float = 0.0
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def build(con: duckdb.DuckDBPyConnection, project: Project, select: Iterable[str] | None = None) -> list[ModelResult]:
    load_seeds(con, project.seeds_dir)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(MODEL_SCHEMA)}")
    wanted = set(select) if select else set(project.models) | set(project.errors)
    results = [ModelResult(name, "error", message=str(exc)) for name, exc in project.errors.items() if name in wanted]
    blocked = downstream(project.models, [r.model for r in results]) - {r.model for r in results}
    for name in project.order:
        if name not in wanted:
            continue
        if name in blocked:
            results.append(ModelResult(name, "skipped", message="an upstream model failed"))
            continue
        result = _materialise(con, project, name)
        results.append(result)
        if result.status != "ok":
            blocked |= downstream(project.models, [name]) - {name}
    return results


def _materialise(con: duckdb.DuckDBPyConnection, project: Project, name: str) -> ModelResult:
    model = project.models[name]
    started = time.perf_counter()
    target = table(MODEL_SCHEMA, name)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE {target} AS {model.sql}")
        failures = check_model(con, model, target)
        if failures:
            con.execute("ROLLBACK")
            return ModelResult(name, "check_failed", seconds=_since(started), message="; ".join(failures))
        rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        first = str(exc).splitlines()[0]
        return ModelResult(name, "error", seconds=_since(started), message=f"{model.path}: {first}")
    return ModelResult(name, "ok", rows=rows, seconds=_since(started))


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def record_builds(con: duckdb.DuckDBPyConnection, run_id: int, results: Iterable[ModelResult]) -> None:
    """Keep each model's build outcome, so planning can refuse models whose last build failed."""
    _ensure_builds_table(con)
    con.executemany(
        "INSERT INTO p2c_meta.model_builds VALUES (?, ?, ?, ?, ?, ?)",
        [[run_id, r.model, r.status, r.rows, r.seconds, r.message] for r in results],
    )


def unbuildable(con: duckdb.DuckDBPyConnection, models: Iterable[str]) -> dict[str, str]:
    """Models whose latest build did not succeed (or that were never built), with the reason."""
    _ensure_builds_table(con)
    latest = {
        model: (status, message)
        for model, status, message in con.execute(
            "SELECT model, status, message FROM p2c_meta.model_builds "
            "QUALIFY row_number() OVER (PARTITION BY model ORDER BY run_id DESC) = 1"
        ).fetchall()
    }
    reasons = {}
    for model in models:
        status, message = latest.get(model, ("never built", "run `p2c build` first"))
        if status != "ok":
            reasons[model] = f"last build {status}: {message}"
    return reasons


def _ensure_builds_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.model_builds ("
        " run_id BIGINT, model VARCHAR, status VARCHAR, rows BIGINT, seconds DOUBLE, message VARCHAR)"
    )
