"""`p2c prune --keep-runs N` on a copy of the scenario's database: history goes, the kept runs' story stays."""

import json

import duckdb


def count_rows(staging, table: str) -> int:
    with duckdb.connect(str(staging), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


def as_of(staging, run: int) -> list[tuple]:
    with duckdb.connect(str(staging), read_only=True) as con:
        return con.execute(
            "select accountnumber, name, address1_city, telephone1 from raw_sales.accounts__history"
            " where _p2c_valid_from_run <= ? and (_p2c_valid_to_run is null or _p2c_valid_to_run > ?) order by 1",
            [run, run]).fetchall()


def kept_story(scenario, profile, entity: str, key: str, from_run: int) -> list[tuple]:
    story = scenario.json("trace", entity, key, profile=profile)
    return [(e["kind"], e.get("run_id"), e.get("entity"), e.get("action"), e.get("status"), e.get("plan_id"))
            for e in story["timeline"] if (e.get("run_id") or 0) >= from_run]


def test_prune_keeps_what_the_kept_runs_need(scenario):
    profile = scenario.copy("pruned")
    staging = profile.with_suffix(".duckdb")
    traced = [("accounts", scenario.conflicted), ("CustomersV2", f"usmf/{scenario.refused}"), ("accounts", scenario.edited)]
    before = {t: kept_story(scenario, profile, *t, from_run=3) for t in traced}
    state_before = {run: as_of(staging, run) for run in (3, 4)}
    runs_before = count_rows(staging, "p2c_meta.runs")

    dry = scenario.json("prune", "--keep-runs", "2", "--dry-run", profile=profile)
    assert (dry["kept_from_run"], dry["runs_removed"], dry["dry_run"]) == (3, 2, True)
    assert count_rows(staging, "p2c_meta.runs") == runs_before  # a dry run deletes nothing

    pruned = scenario.json("prune", "--keep-runs", "2", profile=profile)
    assert {k: v for k, v in pruned.items() if k != "dry_run"} == {k: v for k, v in dry.items() if k != "dry_run"}
    removed = pruned["removed"]
    assert removed["p2c_meta.runs"] == 8  # runs 1 and 2, four stages each
    assert removed["raw_sales.accounts__history"] == 2  # the versions the Sales users' edits replaced in run 2
    assert removed["p2c_meta.plans"] == 2
    assert [r["run_id"] for r in scenario.json("status", profile=profile)["runs"]] == [4, 3]

    # what runs 3 and 4 saw and did is all still there
    assert {run: as_of(staging, run) for run in (3, 4)} == state_before
    assert {t: kept_story(scenario, profile, *t, from_run=3) for t in traced} == before
    assert scenario.json("runs", "show", "4", profile=profile)["pushes"] == scenario.json("runs", "show", "4")["pushes"]
    gone = scenario.cli("runs", "show", "2", "--profile", str(profile))
    assert gone.exit_code == 1 and "run 2: not in p2c_meta.runs (runs 3..4)" in gone.stderr

    # and the next run still works from the pruned database: only the held-back conflict is planned
    rerun = scenario.cli("run", "--profile", str(profile), "--json")
    assert rerun.exit_code == 3 and "1 record(s) held back by a conflict" in rerun.stderr  # blocked, as before pruning
    again = json.loads(rerun.stdout)
    assert again["run_id"] == 5
    assert again["targets"] == {"fno.CustomersV2": {"insert": 0, "update": 0, "conflict": 1, "failed": 0}}
    assert scenario.json("prune", "--keep-runs", "5", profile=profile)["runs_removed"] == 0


def test_prune_needs_at_least_one_run(scenario):
    result = scenario.cli("prune", "--keep-runs", "0", "--profile", str(scenario.profile))
    assert result.exit_code == 2  # a usage error, before the database is opened


def test_prune_by_age_keeps_the_runs_of_the_last_days(scenario):
    profile = scenario.copy("aged")
    staging = profile.with_suffix(".duckdb")
    with duckdb.connect(str(staging)) as con:  # as if runs 1 and 2 had happened two months ago
        con.execute("update p2c_meta.runs set started_at = started_at - interval 60 day,"
                    " finished_at = finished_at - interval 60 day where run_id <= 2")
    assert scenario.json("prune", "--keep-days", "90", profile=profile)["runs_removed"] == 0
    pruned = scenario.json("prune", "--keep-days", "30", profile=profile)
    assert (pruned["kept_from_run"], pruned["runs_removed"]) == (3, 2)
    assert [r["run_id"] for r in scenario.json("status", profile=profile)["runs"]] == [4, 3]
    both = scenario.cli("prune", "--keep-runs", "1", "--keep-days", "1", "--profile", str(profile))
    said = " ".join(both.output.replace("│", " ").split())
    assert both.exit_code == 2 and "exactly one of --keep-runs N or --keep-days N" in said
