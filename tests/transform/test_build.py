"""Building models in a real DuckDB: order, value maps, failure isolation and key checks."""

import duckdb
import pytest

from transform.build import build
from transform.errors import SeedError
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
    assert "key k is not unique: same" in result.message
    assert con.execute("select count(*) from information_schema.tables where table_name = 'f'").fetchone()[0] == 0


@pytest.mark.parametrize("text, message", [
    ("source,target\na,b\n", "header must be source_value,target_value"),
    ("source_value,target_value\nUS,US\nus,USA\n", "source value 'us' is already mapped on line 2"),
])
def test_bad_seed_names_file_and_line(tmp_path, con, text, message):
    root = make_project(tmp_path, {"staging/m.sql": "select 1"}, {"country": text})
    with pytest.raises(SeedError, match=message):
        build(con, load_project(root, {}))
