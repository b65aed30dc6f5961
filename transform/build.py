"""Materialise models as tables in dependency order, one transaction per model.

A model that fails leaves its previous table untouched, and nothing downstream of it is
rebuilt; the rest of the graph still builds.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import duckdb

from extract.sql import ident, table
from transform.checks import CheckResult, failed_checks, record_checks, run_checks
from transform.errors import BuildError
from transform.graph import downstream, select as select_models
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
    checks: tuple[CheckResult, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict:
        failing = [c.as_dict() for c in self.checks if c.status != "pass"]
        return {"model": self.model, "status": self.status, "rows": self.rows, "seconds": self.seconds,
                "message": self.message, "checks": len(self.checks), "failed_checks": failing}


def build(con: duckdb.DuckDBPyConnection, project: Project, select: Iterable[str] | None = None) -> list[ModelResult]:
    """Load changed seeds, then build the selected models (``--select`` syntax; default all)."""
    _, seed_errors = load_seeds(con, project.seeds_dir, project.seed_types)
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(MODEL_SCHEMA)}")
    selectors = list(select or ())
    wanted = set(project.models) | set(project.errors)
    if selectors:
        broken = {s for s in selectors if s.strip("+") in project.errors}
        wanted = select_models(project.models, [s for s in selectors if s not in broken]) | {s.strip("+") for s in broken}
    failed = {name: str(exc) for name, exc in project.errors.items()}
    for name, model in project.models.items():
        bad = sorted(model.seeds & set(seed_errors))
        if bad:
            failed[name] = str(seed_errors[bad[0]])
    results = [ModelResult(name, "error", message=message) for name, message in sorted(failed.items()) if name in wanted]
    blocked = downstream(project.models, failed) - set(failed)
    for name in project.order:
        if name not in wanted:
            continue
        if name in failed:
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
        rows = con.execute(f"SELECT count(*) FROM {target}").fetchone()[0]
        checks = tuple(run_checks(con, model))
        failures = [c for c in checks if c.status != "pass"]
        if failures:
            con.execute("ROLLBACK")
            more = f" (and {len(failures) - 1} more failed check(s))" if len(failures) > 1 else ""
            return ModelResult(name, "check_failed", rows, _since(started), failures[0].message + more, checks)
        con.execute("COMMIT")
    except duckdb.Error as exc:
        con.execute("ROLLBACK")
        first = str(exc).splitlines()[0]
        return ModelResult(name, "error", seconds=_since(started), message=f"{model.path}: {first}")
    return ModelResult(name, "ok", rows=rows, seconds=_since(started), checks=checks)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 3)


def record_builds(con: duckdb.DuckDBPyConnection, run_id: int, results: Iterable[ModelResult]) -> None:
    """Keep each model's build outcome, so planning can refuse models whose last build failed."""
    _ensure_builds_table(con)
    built_at = datetime.now(timezone.utc).replace(tzinfo=None)  # a run's later wave rebuilds under the same run id
    con.executemany(
        "INSERT INTO p2c_meta.model_builds (run_id, model, status, rows, seconds, message, built_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [[run_id, r.model, r.status, r.rows, r.seconds, r.message, built_at] for r in results],
    )
    record_checks(con, run_id, [c for r in results for c in r.checks])


def unbuildable(con: duckdb.DuckDBPyConnection, models: Iterable[str]) -> dict[str, str]:
    """Models not to plan, with the reason: their latest build did not succeed (or they were never
    built), or the latest run of their checks (in ``p2c build`` or ``p2c check``) found failures."""
    _ensure_builds_table(con)
    latest = {
        model: (status, message)
        for model, status, message in con.execute(
            "SELECT model, status, message FROM p2c_meta.model_builds "
            "QUALIFY row_number() OVER (PARTITION BY model ORDER BY run_id DESC, built_at DESC NULLS LAST) = 1"
        ).fetchall()
    }
    checks = failed_checks(con)
    reasons = {}
    for model in models:
        status, message = latest.get(model, ("never built", "run `p2c build` first"))
        if status != "ok":
            reasons[model] = f"last build {status}: {message}"
        elif model in checks:
            reasons[model] = f"checks failed: {checks[model][1]}"
    return reasons


def _ensure_builds_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS p2c_meta")
    con.execute(
        "CREATE TABLE IF NOT EXISTS p2c_meta.model_builds ("
        " run_id BIGINT, model VARCHAR, status VARCHAR, rows BIGINT, seconds DOUBLE, message VARCHAR)"
    )
    con.execute("ALTER TABLE p2c_meta.model_builds ADD COLUMN IF NOT EXISTS built_at TIMESTAMP")


def build_failure(results: list[dict]) -> BuildError | None:
    """One error for the models that failed to build or failed their checks, if any did."""
    failed = [r for r in results if r["status"] in ("error", "check_failed")]
    if not failed:
        return None
    error = BuildError(failed[0]["message"] + (f" (and {len(failed) - 1} more failed models)" if len(failed) > 1 else ""))
    error.results = results
    return error
