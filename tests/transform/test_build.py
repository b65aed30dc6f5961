"""Building models in a real DuckDB: order, value maps, failure isolation and key checks."""

import duckdb
import pytest

from transform.build import build
from transform.errors import SeedError
from transform.seeds import read_seed
from transform.project import load_project

from .test_render import make_project

COUNTRY = "source_value,target_value\nnorway,NO\nus,US\n"


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw_sales")
    con.execute("create table raw_sales.accounts as select * from (values ('1', 'Norway'), ('2', ''), ('3', 'US')) t(accountid, name)")
    yield con
    con.close()


def statuses(results):
    return {r.model: r.status for r in results}


def test_builds_in_order_and_maps_values_with_default(tmp_path, con):
    project = load_project(make_project(tmp_path, {
        "staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
        "flows/flow.sql": "{{ config(target={'system': 'fno', 'entity': 'X', 'key': ['accountid']}) }}"
                          "select accountid, {{ value_map('country', 'name', default='US') }} as iso from {{ ref('stg') }}",
    }, {"country": COUNTRY}), {})
    results = build(con, project)
    assert statuses(results) == {"stg": "ok", "flow": "ok"}
    assert con.sql("select accountid, iso from models.flow order by 1").fetchall() == [("1", "NO"), ("2", "US"), ("3", "US")]


def test_failing_model_keeps_its_old_table_and_skips_downstream_only(tmp_path, con):
    models = {
        "staging/a.sql": "select * from {{ source('sales', 'accounts') }}",
        "staging/b.sql": "select accountid from {{ ref('a') }}",
        "staging/other.sql": "select 1 as x",
    }
    root = make_project(tmp_path, models)
    assert set(statuses(build(con, load_project(root, {}))).values()) == {"ok"}
    (root / "staging" / "a.sql").write_text("select no_such_column from {{ source('sales', 'accounts') }}")
    results = statuses(build(con, load_project(root, {})))
    assert results == {"a": "error", "b": "skipped", "other": "ok"}
    assert con.execute("select count(*) from models.a").fetchone()[0] == 3  # the previous table survives


def test_duplicate_target_key_fails_the_check_and_keeps_the_old_table(tmp_path, con):
    root = make_project(tmp_path, {
        "flows/f.sql": "{{ config(target={'system': 'fno', 'entity': 'X', 'key': ['k']}) }}"
                       "select 'same' as k from {{ source('sales', 'accounts') }}",
    })
    [result] = build(con, load_project(root, {}))
    assert result.status == "check_failed"
    assert "f.sql: check unique(k) failed: 1 offending row(s), e.g. k='same', rows=3" in result.message
    assert con.execute("select count(*) from information_schema.tables where table_name = 'f'").fetchone()[0] == 0


@pytest.mark.parametrize("text, message", [
    ("source,target\na,b\n", "country.csv:1: header must be source_value,target_value for value_map(), found source,target"),
    ("source_value,target_value\nUS,US\nus,USA\n", "country.csv:3: source_value 'us' is already on line 2 (duplicate key)"),
    ("source_value,source_value\na,b\n", "country.csv:1: header must be source_value,target_value for value_map(), found source_value,source_value"),
    ("source_value,target_value\na,b,c\n", "country.csv:2: expected 2 values, found 3"),
], ids=["bad-header", "duplicate-key", "repeated-column", "ragged-row"])
def test_bad_seed_fails_only_the_models_reading_it(tmp_path, con, text, message):
    root = make_project(tmp_path, {
        "staging/uses_map.sql": "select {{ value_map('country', 'name', default='US') }} as iso from {{ source('sales', 'accounts') }}",
        "staging/downstream.sql": "select * from {{ ref('uses_map') }}",
        "staging/other.sql": "select accountid from {{ source('sales', 'accounts') }}",
    }, {"country": text})
    results = {r.model: r for r in build(con, load_project(root, {}))}
    assert {m: r.status for m, r in results.items()} == {"uses_map": "error", "downstream": "skipped", "other": "ok"}
    assert message in results["uses_map"].message and "\n" not in results["uses_map"].message
    assert con.execute("select count(*) from information_schema.tables where table_name in ('uses_map', 'downstream')").fetchone() == (0,)


def test_read_seed_reports_the_duplicate_key_with_both_lines(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("code,label\nA,first\nB,second\nA,again\n")
    with pytest.raises(SeedError, match=r"codes.csv:4: code 'A' is already on line 2 \(duplicate key\)"):
        read_seed(path)


def test_seeds_load_typed_and_reload_only_when_they_change(tmp_path, con):
    from transform.seeds import load_seeds

    root = make_project(tmp_path, {"staging/m.sql": "select * from seeds.rates"},
                        {"rates": "code,rate,since\nA,1.5,2024-01-01\nB,2,2024-02-01\n", "country": COUNTRY})
    (root / "project.toml").write_text('[seeds.rates.columns]\nrate = "DECIMAL(9,2)"\nsince = "DATE"\n')
    project = load_project(root, {})
    assert load_seeds(con, project.seeds_dir, project.seed_types) == ({"rates": 2, "country": 2}, {})
    assert con.execute("select column_name, data_type from information_schema.columns where table_name = 'rates' "
                       "order by ordinal_position").fetchall() == [("code", "VARCHAR"), ("rate", "DECIMAL(9,2)"), ("since", "DATE")]
    assert load_seeds(con, project.seeds_dir, project.seed_types) == ({}, {})  # unchanged: not reloaded
    (root / "seeds" / "rates.csv").write_text("code,rate,since\nA,1.75,2024-01-01\n")
    assert load_seeds(con, project.seeds_dir, project.seed_types) == ({"rates": 1}, {})
    assert con.execute("select rate from seeds.rates").fetchall()[0][0] == pytest.approx(1.75)
    assert [r.status for r in build(con, project)] == ["ok"]


def test_a_seed_value_that_does_not_fit_its_type_names_file_and_line_and_keeps_the_old_table(tmp_path, con):
    from transform.seeds import load_seeds

    root = make_project(tmp_path, {}, {"rates": "code,rate\nA,1.5\n"})
    (root / "project.toml").write_text('[seeds.rates.columns]\nrate = "DECIMAL(9,2)"\n')
    project = load_project(root, {})
    load_seeds(con, project.seeds_dir, project.seed_types)
    (root / "seeds" / "rates.csv").write_text("code,rate\nA,1.5\nB,lots\n")
    _, errors = load_seeds(con, project.seeds_dir, project.seed_types)
    assert str(errors["rates"]).endswith("rates.csv:3: rate 'lots' is not a DECIMAL(9, 2)")
    assert con.execute("select count(*) from seeds.rates").fetchone() == (1,)


def test_per_model_rows_and_timings_are_recorded(tmp_path, con):
    from extract.runs import record_stage, utcnow
    from transform.build import record_builds

    root = make_project(tmp_path, {"staging/a.sql": "select * from {{ source('sales', 'accounts') }}",
                                   "staging/b.sql": "select * from {{ ref('a') }} where accountid <> '2'"})
    results = build(con, load_project(root, {}))
    record_builds(con, 7, results)
    record_stage(con, run_id=7, stage="build", profile="t", started_at=utcnow(), status="ok",
                 summary=[r.as_dict() for r in results])
    rows = con.execute("select model, status, rows, seconds >= 0 from p2c_meta.model_builds where run_id = 7 order by model").fetchall()
    assert rows == [("a", "ok", 3, True), ("b", "ok", 2, True)]
    summary = con.execute("select summary from p2c_meta.runs where run_id = 7 and stage = 'build'").fetchone()[0]
    import json
    assert {(m["model"], m["rows"]) for m in json.loads(summary)} == {("a", 3), ("b", 2)}
    assert all("seconds" in m and m["checks"] == 0 for m in json.loads(summary))


def test_select_builds_only_the_chosen_models(tmp_path, con):
    root = make_project(tmp_path, {"staging/a.sql": "select * from {{ source('sales', 'accounts') }}",
                                   "staging/b.sql": "select * from {{ ref('a') }}",
                                   "staging/c.sql": "select 1 as x"})
    project = load_project(root, {})
    assert statuses(build(con, project, ["a+"])) == {"a": "ok", "b": "ok"}
    assert statuses(build(con, project, ["c"])) == {"c": "ok"}
