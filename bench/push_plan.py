"""Planning cost: the three-way diff of N desired rows against N actual rows and N base records, with 1% changed.

    .venv/bin/python bench/push_plan.py [--rows 1000000] [--changed 0.01] [--repeat 3]

Builds, in a DuckDB file, a flow model's table (the desired rows), the target's raw table
(actual, 20 columns like CustomersV2) and ``p2c_meta.pushed`` (what p2c last wrote, one JSON
record per key), then times ``make_plan``: the SQL diff, storing the plan in ``p2c_meta.plan``
and its content hash. Of the changed rows half are updates (one field), a quarter inserts,
a quarter conflicts (the target changed a field p2c wrote). Prints the median and the ratio
to the 3 s budget of issue 7, and checks the plan's counts against what was changed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from extract.registry import Entity  # noqa: E402
from load.plan import ensure_plan_tables, make_plan  # noqa: E402
from transform.render import Model  # noqa: E402

FIELDS = [f"Field{i:02}" for i in range(18)]
BUDGET_S = 3.0


def build(con: duckdb.DuckDBPyConnection, rows: int, changed: float) -> dict[str, int]:
    every = int(1 / changed)
    fields = ", ".join(f"'v' || (i % 97)::VARCHAR AS {f}" for f in FIELDS)
    con.execute("CREATE SCHEMA raw_fno; CREATE SCHEMA models")
    con.execute(f"CREATE TABLE raw_fno.\"CustomersV2\" AS SELECT 'usmf' AS dataAreaId, 'C' || i::VARCHAR AS CustomerAccount,"
                f" {fields}, (i * 1.5)::DECIMAL(19,4) AS CreditLimit, md5(i::VARCHAR) AS _p2c_hash, FALSE AS _p2c_deleted,"
                f" 1::BIGINT AS _p2c_run_id, now()::TIMESTAMP AS _p2c_extracted_at FROM range({rows}) t(i)"
                f" WHERE i % {every} <> 1")  # every `every`-th row + 1 is missing on the target: an insert
    desired_fields = ", ".join(
        f"CASE WHEN i % {every} IN (0, 2) AND '{f}' = 'Field00' THEN 'changed' ELSE 'v' || (i % 97)::VARCHAR END AS {f}"
        for f in FIELDS)
    con.execute(f"CREATE TABLE models.customers AS SELECT 'usmf' AS dataAreaId, 'C' || i::VARCHAR AS CustomerAccount,"
                f" {desired_fields}, (i * 1.5)::DECIMAL(38,4) AS CreditLimit FROM range({rows}) t(i)")
    ensure_plan_tables(con)
    # base: p2c wrote every record; for i % every = 2 it wrote Field00 = 'earlier' (the target changed it since): a conflict
    base_fields = ", ".join(f"'{f}': CASE WHEN i % {every} = 2 AND '{f}' = 'Field00' THEN 'earlier' ELSE 'v' || (i % 97)::VARCHAR END"
                            for f in FIELDS)
    con.execute(f"INSERT INTO p2c_meta.pushed SELECT 'fno', 'CustomersV2', to_json(struct_pack(dataAreaId := 'usmf',"
                f" CustomerAccount := 'C' || i::VARCHAR))::VARCHAR, NULL, to_json({{{base_fields}}}), 1, now()"
                f" FROM range({rows}) t(i)")
    return {"update": sum(1 for i in range(every) if i == 0) * (rows // every),
            "insert": rows // every, "conflict_overwritten": rows // every}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share of rows changed (updates, inserts, conflicts)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="p2c-bench-plan-") as folder:
        con = duckdb.connect(str(Path(folder) / "staging.duckdb"))
        started = time.perf_counter()
        build(con, args.rows, args.changed / 3)
        print(f"setup: {args.rows:,} desired, actual and base rows in {time.perf_counter() - started:.1f} s")
        entity = Entity("fno", "CustomersV2", ("dataAreaId", "CustomerAccount"),
                        (("dataAreaId", "VARCHAR"), ("CustomerAccount", "VARCHAR"), *((f, "VARCHAR") for f in FIELDS),
                         ("CreditLimit", "DECIMAL(19,4)")))
        model = Model("customers", Path("models/flows/customers.sql"), "", {
            "flow": "accounts", "target": {"system": "fno", "entity": "CustomersV2", "key": ["dataAreaId", "CustomerAccount"]}},
            frozenset(), frozenset())
        times, plan = [], None
        for run in range(args.repeat):
            started = time.perf_counter()
            plan = make_plan(con, [model], {("fno", "CustomersV2"): entity}, run_id=run + 1,
                             created_at=datetime(2026, 1, 1), blocked={})
            times.append(time.perf_counter() - started)
        median = statistics.median(times)
        counts = plan.counts()["fno.CustomersV2"]
        conflicts = con.execute("SELECT count(*) FROM p2c_meta.plan WHERE plan_id = ? AND json_array_length(conflicts) > 0",
                                [plan.plan_id]).fetchone()[0]
        print(f"plan {plan.plan_id}: {counts} ({conflicts:,} updates overwrite a target edit: source_wins)")
        print(f"planning {args.rows:,} desired vs {args.rows:,} actual, {plan.operations:,} changed "
              f"({plan.operations / args.rows:.1%}): median {median:.2f} s of {args.repeat} runs "
              f"(min {min(times):.2f} s, max {max(times):.2f} s)")
        print(f"ratio to the 3 s budget: {median / BUDGET_S:.2f} ({'within' if median < BUDGET_S else 'OVER'} budget)")
        con.close()


if __name__ == "__main__":
    main()
