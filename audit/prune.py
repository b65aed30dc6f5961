"""``p2c prune --keep-runs N`` (or ``--keep-days N``): drop the history older than the runs kept, keeping what they need.

Kept, always: the raw tables (the current state), ``p2c_meta.pushed`` (the base of every
three-way diff), ``sync_state`` (delta links), the seeds and the models. Trimmed, for runs
older than the oldest kept run K:

- ``raw_*.<entity>__history``: versions replaced before K (``_p2c_valid_to_run < K``, kept in
  ``<entity>__replaced``; the current versions are the raw rows);
  a version replaced in K is kept, so every kept run shows what it changed, from what, and the
  raw state of every kept run stays recoverable;
- ``p2c_meta.runs``, ``model_builds``, ``check_results``, ``push_batches``, ``push_log``: rows of
  older runs, except each model's latest build and checks (planning reads them), the outcomes of
  plans that are kept, and each target record's latest push outcome (pending retries);
- ``p2c_meta.plans`` and ``plan``: plans made by older runs, unless a kept run pushed them or
  they were never pushed and are the newest plan (``p2c push`` would pick it).

Everything happens in one transaction; ``dry_run`` counts without deleting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import duckdb

from audit.db import has_table, table, table_columns
from audit.errors import AuditError
from audit.ledger import run_ids
from extract.runs import utcnow

PER_RUN = ("runs", "model_builds", "check_results", "push_batches", "push_log")


def replaced_tables(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """The tables of replaced versions behind every history view (extract/land.py), and the ``__history``
    tables of a staging file no extract has moved to that layout yet (they hold every version)."""
    return [tuple(r) for r in con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('raw_sales', 'raw_fno') AND table_type = 'BASE TABLE'"
        " AND (table_name LIKE '%\\_\\_replaced' ESCAPE '\\' OR table_name LIKE '%\\_\\_history' ESCAPE '\\')"
        " ORDER BY 1, 2").fetchall()]


def prune(con: duckdb.DuckDBPyConnection, keep_runs: int | None = None, *, keep_days: float | None = None,
          now: datetime | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Delete what only runs older than the kept ones need (the ``keep_runs`` newest, or those started in the
    last ``keep_days`` days; the newest run is always kept); returns rows removed per table."""
    if (keep_runs is None) == (keep_days is None):
        raise AuditError("prune: give either --keep-runs N or --keep-days N")
    if keep_runs is not None and keep_runs < 1:
        raise AuditError(f"prune --keep-runs {keep_runs}: keep at least one run")
    ids = run_ids(con)
    if keep_runs is not None:
        kept = ids[:keep_runs]
    else:
        cutoff = (now or utcnow()) - timedelta(days=keep_days)
        started = dict(con.execute("SELECT run_id, min(started_at) FROM p2c_meta.runs GROUP BY run_id").fetchall()) if ids else {}
        kept = ids[:1] + [i for i in ids[1:] if started[i] >= cutoff]
    if not ids or len(kept) == len(ids):
        return {"kept_from_run": ids[-1] if ids else None, "runs_removed": 0, "removed": {}, "dry_run": dry_run}
    oldest_kept = min(kept)
    statements = _statements(con, oldest_kept)
    removed: dict[str, int] = {}
    con.execute("BEGIN TRANSACTION")
    try:
        for name, count_sql, delete_sql in statements:
            count = con.execute(count_sql, [oldest_kept]).fetchone()[0]
            if count:  # deleted even in a dry run (then rolled back): later counts depend on earlier deletes
                removed[name] = count
                con.execute(delete_sql, [oldest_kept])
        con.execute("ROLLBACK" if dry_run else "COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return {"kept_from_run": oldest_kept, "runs_removed": len([i for i in ids if i < oldest_kept]), "removed": removed,
            "dry_run": dry_run}


def _statements(con, oldest_kept: int) -> list[tuple[str, str, str]]:
    """(table label, count query, delete query), each taking the oldest kept run as its one parameter."""
    found = []
    for schema, name in replaced_tables(con):
        if "_p2c_valid_to_run" in table_columns(con, schema, name):
            where = "_p2c_valid_to_run IS NOT NULL AND _p2c_valid_to_run < $1"
            target = table(schema, name).sql("duckdb")
            label = f"{schema}.{name.removesuffix('__replaced').removesuffix('__history')}__history"
            found.append((label, f"SELECT count(*) FROM {target} WHERE {where}",
                          f"DELETE FROM {target} WHERE {where}"))
    if has_table(con, "p2c_meta", "plans"):
        # plans before the per-run ledgers: push_log keeps the outcomes of the plans that stay
        doomed = ("SELECT plan_id FROM p2c_meta.plans WHERE run_id < $1 AND coalesce(pushed_by_run, 0) < $1"
                  " AND plan_id <> (SELECT plan_id FROM p2c_meta.plans ORDER BY created_at DESC LIMIT 1)")
        if has_table(con, "p2c_meta", "plan"):
            plan_rows = f"p2c_meta.plan WHERE plan_id IN ({doomed})"
            found.append(("p2c_meta.plan", f"SELECT count(*) FROM {plan_rows}", f"DELETE FROM {plan_rows}"))
        plans = f"p2c_meta.plans WHERE plan_id IN ({doomed})"
        found.append(("p2c_meta.plans", f"SELECT count(*) FROM {plans}", f"DELETE FROM {plans}"))
    for name in PER_RUN:
        if has_table(con, "p2c_meta", name) and "run_id" in table_columns(con, "p2c_meta", name):
            rows_ = f"p2c_meta.{name} AS t WHERE t.run_id < $1{KEEP.get(name, '')}"
            found.append((f"p2c_meta.{name}", f"SELECT count(*) FROM {rows_}", f"DELETE FROM {rows_}"))
    return found


# what stays of an old run because later work reads it
KEEP = {
    # planning refuses a model whose latest build failed or was never built: keep each model's latest
    "model_builds": " AND t.run_id < (SELECT max(b.run_id) FROM p2c_meta.model_builds AS b WHERE b.model = t.model)",
    "check_results": " AND t.run_id < (SELECT max(c.run_id) FROM p2c_meta.check_results AS c WHERE c.model = t.model)",
    # a kept plan's outcomes (a resumed push skips what landed), and each record's latest outcome (pending retries)
    "push_log": (" AND t.plan_id NOT IN (SELECT plan_id FROM p2c_meta.plans)"
                 " AND t.sent_at < (SELECT max(l.sent_at) FROM p2c_meta.push_log AS l"
                 " WHERE l.system = t.system AND l.entity = t.entity AND l.key::VARCHAR = t.key::VARCHAR)"),
    "push_batches": " AND t.plan_id NOT IN (SELECT plan_id FROM p2c_meta.plans)",
}
