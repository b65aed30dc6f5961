"""Checks in a real DuckDB: each kind reports the offending rows (count and first ten), results
are kept in p2c_meta.check_results, and a model whose checks fail is not planned."""

import json

import duckdb
import pytest

from transform.build import build, record_builds, unbuildable
from transform.checks import check_models, record_checks
from transform.project import load_project

from .test_render import make_project

TARGET = "target={'system': 'fno', 'entity': 'X', 'key': ['accountid']}"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw_sales")
    con.execute("create table raw_sales.accounts as select i::varchar as accountid, "
                "case when i % 3 = 0 then null else 'n' || (i % 5) end as name from range(1, 31) t(i)")
    yield con
    con.close()


def flow(checks: str, select: str = "accountid, name") -> str:
    return "{{ config(" + TARGET + ", checks=" + checks + ") }}select " + select + " from {{ ref('stg') }}"


def built(tmp_path, con, flow_sql, seeds=None):
    root = make_project(tmp_path, {"staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
                                   "flows/f.sql": flow_sql}, seeds)
    results = {r.model: r for r in build(con, load_project(root, {}))}
    return results["f"]


@pytest.mark.parametrize("checks, label, failing", [
    ("[{'not_null': ['name']}]", "not_null(name)", 10),
    ("[{'unique': 'name'}]", "unique(name)", 5),
    ("[{'accepted_values': {'column': 'name', 'values': ['n1', 'n2']}}]", "accepted_values(name)", 12),
    ("[{'relationships': {'column': 'name', 'to': 'stg', 'field': 'accountid'}}]", "relationships(name -> stg.accountid)", 20),
    ("[{'row_count': {'min': 31}}]", "row_count(min=31)", 1),
    ("[{'row_count': {'max': 29}}]", "row_count(max=29)", 1),
], ids=["not_null", "unique", "accepted_values", "relationships", "row_count-min", "row_count-max"])
def test_each_check_kind_fails_with_the_offending_rows(tmp_path, con, checks, label, failing):
    result = built(tmp_path, con, flow(checks))
    assert result.status == "check_failed"
    [failed] = [c for c in result.checks if c.status != "pass"]
    assert (failed.check, failed.failing) == (label, failing)
    assert len(failed.sample) == min(failing, 10)
    assert f"f.sql: check {label} failed: {failing} offending row(s)" in result.message
    assert con.execute("select count(*) from information_schema.tables where table_name = 'f'").fetchone() == (0,)


def test_passing_checks_keep_the_table_and_include_the_implied_target_key_checks(tmp_path, con):
    result = built(tmp_path, con, flow("[{'row_count': {'min': 1, 'max': 30}}, {'accepted_values': "
                                       "{'column': 'name', 'values': ['n0', 'n1', 'n2', 'n3', 'n4']}}]"))
    assert result.status == "ok" and result.rows == 30
    assert [c.check for c in result.checks] == ["not_null(accountid)", "unique(accountid)", "row_count(min=1, max=30)",
                                                "accepted_values(name)"]


def test_value_map_without_default_must_cover_every_source_value(tmp_path, con):
    seeds = {"names": "source_value,target_value\nn1,one\nN2 ,two\n"}
    result = built(tmp_path, con, flow("[]", "accountid, {{ value_map('names', 'name') }} as label, "
                                            "{{ value_map('names', 'name', default='?') }} as with_default"), seeds)
    assert result.status == "check_failed"
    [failed] = [c for c in result.checks if c.status != "pass"]
    assert failed.check == "value_map_coverage(names: name)"
    assert failed.failing == 3 and failed.sample == [{"source_value": "n0"}, {"source_value": "n3"}, {"source_value": "n4"}]


def test_coverage_follows_the_select_that_holds_the_value_map(tmp_path, con):
    """Filters and CTEs of the model apply: a value filtered out need not be mapped."""
    seeds = {"names": "source_value,target_value\nn1,one\nn2,two\n"}
    sql = ("{{ config(" + TARGET + ") }}with kept as (select * from {{ ref('stg') }} where name in ('n1', 'n2')) "
           "select accountid, {{ value_map('names', 'name') }} as label from kept")
    assert built(tmp_path, con, sql, seeds).status == "ok"


def test_results_are_stored_and_a_failing_check_blocks_the_plan(tmp_path, con):
    root = make_project(tmp_path, {"staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
                                   "flows/f.sql": flow("[{'row_count': {'max': 100}}]")})
    record_builds(con, 1, build(con, load_project(root, {})))
    assert unbuildable(con, ["f"]) == {}
    # the analyst tightens a guard and runs `p2c check` on the built table: f is blocked
    (root / "flows" / "f.sql").write_text(flow("[{'row_count': {'max': 5}}]"))
    project = load_project(root, {})
    record_checks(con, 2, check_models(con, project, ["f"]))
    [reason] = unbuildable(con, ["f"]).values()
    assert reason.startswith("checks failed: ") and "row_count(max=5) failed: 1 offending row(s), e.g. rows=30" in reason
    stored = con.execute("select run_id, \"check\", status, failing, sample from p2c_meta.check_results "
                         "where model = 'f' and status = 'fail'").fetchall()
    assert [(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in stored] == [(2, "row_count(max=5)", "fail", 1, [{"rows": 30}])]
    # a later build whose checks pass unblocks it
    record_builds(con, 3, build(con, project, ["f"]))
    assert unbuildable(con, ["f"])["f"].startswith("last build check_failed")
    (root / "flows" / "f.sql").write_text(flow("[{'row_count': {'max': 30}}]"))
    record_builds(con, 4, build(con, load_project(root, {}), ["f"]))
    assert unbuildable(con, ["f"]) == {}


def test_checking_a_model_never_built_is_an_error_naming_it(tmp_path, con):
    root = make_project(tmp_path, {"staging/stg.sql": "select * from {{ source('sales', 'accounts') }}"})
    [result] = check_models(con, load_project(root, {}))
    assert result.status == "error" and result.message.endswith("stg.sql: not built yet; run `p2c build`")


def test_the_latest_check_pass_counts_even_within_one_run():
    """A run's later wave re-checks a model under the same run id: a failure it clears no longer blocks."""
    import duckdb

    from transform.checks import CheckResult, failed_checks, record_checks

    con = duckdb.connect()
    fail = CheckResult("m", "unique(k)", "fail", 1, [{"k": 1}], "m: unique(k) failed")
    ok = CheckResult("m", "unique(k)", "pass", 0, [], "")
    record_checks(con, 5, [fail])
    assert failed_checks(con) == {"m": (5, "m: unique(k) failed")}
    record_checks(con, 5, [ok])
    assert failed_checks(con) == {}
    record_checks(con, 6, [fail])
    assert failed_checks(con) == {"m": (6, "m: unique(k) failed")}
