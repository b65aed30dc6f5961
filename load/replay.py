"""Replay: the raw state of a past run, rebuilt in memory from the ``__history`` views.

``p2c plan --as-of RUN`` builds today's models on the raw tables as they stood at the end of
run RUN (every version valid then: ``_p2c_valid_from_run <= RUN`` and not yet replaced,
``_p2c_valid_to_run`` NULL or later), diffs them against that state and shows the plan. All
of it happens in an in-memory database attached beside the staging file and made the default
for the duration, so the live raw, model and ``p2c_meta`` tables are only read, never written,
and the plan is not stored: it cannot be pushed.

The base of the three-way diff is ``p2c_meta.pushed`` as far as it goes back: a record p2c
wrote again after RUN has lost its older base, so conflicts on it are not detected.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import duckdb

from extract.land import history_table
from extract.registry import Entity
from extract.runs import utcnow
from extract.sql import column_list, ident, table
from load.errors import PlanError
from load.plan import Plan, ensure_plan_tables, load_plan, make_plan
from transform.build import build, record_builds, unbuildable
from transform.project import Project

REPLAY_DATABASE = "p2c_replay"


def plan_as_of(con: duckdb.DuckDBPyConnection, project: Project, run_id: int, show: bool) -> tuple[dict, Plan | None]:
    """Today's models built and diffed on the raw state of run ``run_id``, in memory: the plan's summary (not
    stored: its id says ``as-of``) and, with ``show``, the plan itself."""
    with replayed(con, dict(project.entities).values(), run_id):
        record_builds(con, run_id, build(con, project))
        targets = project.targets()
        plan = make_plan(con, targets, dict(project.entities), run_id=run_id, created_at=utcnow(),
                         blocked=unbuildable(con, [m.name for m in targets]))
        loaded = load_plan(con, plan.plan_id) if show else None
    summary = {"plan_id": f"as-of-{plan.plan_id}", "as_of": run_id, "stored": False, "counts": plan.counts(),
               "skipped": list(plan.skipped), "operations": plan.operations, "breakdown": list(plan.breakdown)}
    return summary, loaded


@contextmanager
def replayed(con: duckdb.DuckDBPyConnection, entities: Iterable[Entity], run_id: int) -> Iterator[None]:
    """Within the block, ``con``'s default database is an in-memory copy of the raw tables as of ``run_id``."""
    home = con.execute("SELECT current_database()").fetchone()[0]
    known = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = 'p2c_meta'"
                        " AND table_name = 'runs'", [home]).fetchone()[0]
    if not known or not con.execute(f"SELECT count(*) FROM {ident(home)}.p2c_meta.runs WHERE run_id = ?", [run_id]).fetchone()[0]:
        raise PlanError(f"--as-of {run_id}: no such run in the staging database (see `p2c status`)")
    con.execute(f"ATTACH ':memory:' AS {REPLAY_DATABASE}")
    try:
        con.execute(f"USE {REPLAY_DATABASE}")
        try:
            for entity in entities:
                _raw_as_of(con, home, entity, run_id)
            ensure_plan_tables(con)
            if _exists(con, home, "p2c_meta", "pushed"):
                con.execute(f"INSERT INTO p2c_meta.pushed BY NAME SELECT * FROM {ident(home)}.p2c_meta.pushed WHERE run_id <= ?",
                            [run_id])
            yield
        finally:
            con.execute(f"USE {ident(home)}")
    finally:
        con.execute(f"DETACH {REPLAY_DATABASE}")


def _raw_as_of(con: duckdb.DuckDBPyConnection, home: str, entity: Entity, run_id: int) -> None:
    """The entity's raw table as run ``run_id`` left it (absent when it had not been extracted by then)."""
    history = f"{entity.entity_set}__history"
    if not _exists(con, home, entity.schema, history):
        return
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(entity.schema)}")
    source = f"{ident(home)}.{history_table(entity)}"
    con.execute(
        f"CREATE TABLE {table(entity.schema, entity.entity_set)} AS SELECT {column_list(entity.column_names)},"
        f" _p2c_valid_from_run AS _p2c_run_id, NULL::TIMESTAMP AS _p2c_extracted_at, _p2c_hash, _p2c_deleted"
        f" FROM {source} WHERE _p2c_valid_from_run <= ? AND (_p2c_valid_to_run IS NULL OR _p2c_valid_to_run > ?)",
        [run_id, run_id])
    found = con.execute(f"SELECT count(*) FROM {table(entity.schema, entity.entity_set)}").fetchone()[0]
    if not found and not con.execute(f"SELECT count(*) FROM {source} WHERE _p2c_valid_from_run <= ?", [run_id]).fetchone()[0]:
        con.execute(f"DROP TABLE {table(entity.schema, entity.entity_set)}")  # not extracted by then


def _exists(con: duckdb.DuckDBPyConnection, catalog: str, schema: str, name: str) -> bool:
    return con.execute("SELECT count(*) FROM information_schema.tables WHERE table_catalog = ? AND table_schema = ?"
                       " AND table_name = ?", [catalog, schema, name]).fetchone()[0] > 0
