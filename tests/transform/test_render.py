"""Rendering errors name the file and line; helpers produce quoted SQL."""

from pathlib import Path

import pytest

from transform.errors import GraphError, ModelError
from transform.project import load_project

SOURCES = """
[sales.accounts]
key = ["accountid"]
[sales.accounts.columns]
accountid = "VARCHAR"
name = "VARCHAR"
"""


def make_project(tmp_path: Path, models: dict[str, str], seeds: dict[str, str] | None = None) -> Path:
    (tmp_path / "sources.toml").write_text(SOURCES)
    for relpath, text in models.items():
        path = tmp_path / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for name, text in (seeds or {}).items():
        (tmp_path / "seeds").mkdir(exist_ok=True)
        (tmp_path / "seeds" / f"{name}.csv").write_text(text)
    return tmp_path


def render_error(tmp_path, models, seeds=None) -> str:
    project = load_project(make_project(tmp_path, models, seeds), {"company": "usmf"})
    [error] = project.errors.values()
    return str(error)


def test_ref_and_source_render_quoted_tables_and_record_dependencies(tmp_path):
    project = load_project(
        make_project(tmp_path, {
            "staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
            "flows/flow.sql": "{{ config(target={'system': 'fno', 'entity': 'X', 'key': ['k']}) }}"
                              "select name as k, {{ var('company') }} as c from {{ ref('stg') }}",
        }),
        {"company": "us'mf"},
    )
    assert project.errors == {}
    assert project.order == ("stg", "flow")
    flow = project.models["flow"]
    assert '"models"."stg"' in flow.sql
    assert "'us''mf' as c" in flow.sql
    assert flow.refs == {"stg"} and flow.config["target"]["entity"] == "X"
    with pytest.raises(GraphError, match=r"flow.sql: target fno.X is not declared in sources.toml"):
        project.entities_to_extract()


def test_entities_to_extract_are_the_sources_read_and_the_flow_targets(tmp_path):
    root = make_project(tmp_path, {
        "flows/flow.sql": "{{ config(target={'system': 'fno', 'entity': 'Targets', 'key': ['k']}) }}"
                          "select name as k from {{ source('sales', 'accounts') }}",
    })
    (root / "sources.toml").write_text(SOURCES + '[fno.Targets]\nkey = ["k"]\n[fno.Targets.columns]\nk = "VARCHAR"\n'
                                       '[fno.Unused]\nkey = ["k"]\n[fno.Unused.columns]\nk = "VARCHAR"\n')
    project = load_project(root, {})
    assert [e.label for e in project.entities_to_extract()] == ["sales.accounts", "fno.Targets"]


def test_undefined_variable_names_file_and_line(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select 1\nfrom x\nwhere {{ nope }}"})
    assert message.endswith("m.sql:3: 'nope' is undefined")


def test_unknown_ref_names_file_line_and_model(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select 1 from\n{{ ref('missing_model') }}"})
    assert "m.sql:2: ref('missing_model'): no model named 'missing_model'" in message


def test_unknown_source_is_an_error(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select * from {{ source('sales', 'contacts') }}"})
    assert "source('sales', 'contacts'): not declared in sources.toml" in message


def test_jinja_syntax_error_names_line(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select 1\n{{ ref('x' }}"})
    assert "m.sql:2: Jinja syntax error" in message


def test_sql_syntax_error_names_line(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select 1,\nfrom from"})
    assert "m.sql:2: SQL syntax error" in message


def test_direct_table_reads_are_refused(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select * from raw_sales.accounts"})
    assert "table raw_sales.accounts is read directly" in message


def test_cycle_is_reported_with_its_path(tmp_path):
    with pytest.raises(GraphError, match="cycle: (a -> b -> a|b -> a -> b)"):
        load_project(make_project(tmp_path, {
            "staging/a.sql": "select * from {{ ref('b') }}",
            "staging/b.sql": "select * from {{ ref('a') }}",
        }), {})


def test_two_models_with_one_name_are_an_error(tmp_path):
    with pytest.raises(GraphError, match="a model named 'm' already exists"):
        load_project(make_project(tmp_path, {"staging/m.sql": "select 1", "flows/m.sql": "select 2"}), {})


def test_value_map_unknown_seed_is_an_error(tmp_path):
    message = render_error(tmp_path, {"staging/m.sql": "select {{ value_map('nope', 'name') }}"})
    assert "no seed models/seeds/nope.csv" in message
