"""Rendering errors name the file and line; helpers produce quoted SQL."""

from pathlib import Path

import pytest

from transform.errors import GraphError, ModelError
from transform.project import load_project
from transform.render import Renderer

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


@pytest.mark.parametrize("sql, expected", [
    ("select 1\nfrom x\nwhere {{ nope }}", "m.sql:3: 'nope' is undefined"),
    ("select 1 from\n{{ ref('missing_model') }}", "m.sql:2: ref('missing_model'): no model named 'missing_model'"),
    ("select * from {{ source('sales', 'contacts') }}", "m.sql:1: source('sales', 'contacts'): not declared in sources.toml"),
    ("select 1\n{{ ref('x' }}", "m.sql:2: Jinja syntax error"),
    ("select 1,\nfrom from", "m.sql:2: SQL syntax error"),
    ("select * from raw_sales.accounts", "m.sql: table raw_sales.accounts is read directly"),
    ("select {{ value_map('nope', 'name') }}", "m.sql:1: value_map('nope', ...): no seed models/seeds/nope.csv"),
], ids=["undefined", "unknown-ref", "unknown-source", "jinja-syntax", "sql-syntax", "direct-read", "unknown-seed"])
def test_a_bad_model_is_one_error_naming_file_line_and_name(tmp_path, sql, expected):
    assert expected in render_error(tmp_path, {"staging/m.sql": sql})


def test_cycle_is_reported_with_its_path(tmp_path):
    with pytest.raises(GraphError, match="cycle: (a -> b -> a|b -> a -> b)"):
        load_project(make_project(tmp_path, {
            "staging/a.sql": "select * from {{ ref('b') }}",
            "staging/b.sql": "select * from {{ ref('a') }}",
        }), {})


def test_two_models_with_one_name_are_an_error(tmp_path):
    with pytest.raises(GraphError, match="a model named 'm' already exists"):
        load_project(make_project(tmp_path, {"staging/m.sql": "select 1", "flows/m.sql": "select 2"}), {})


def test_deterministic_id_in_sql_matches_python(tmp_path):
    """Records p2c creates in Sales get the same UUID from the model's SQL and from Python (decisions.md 12)."""
    import duckdb

    from transform.ids import deterministic_id

    renderer = Renderer(tmp_path, model_names=set(), sources=set(), seeds=set(), variables={})
    (tmp_path / "ids.sql").write_text(
        "select {{ deterministic_id('salesorders', 'n') }} as id, {{ deterministic_id('salesorderdetails', 'n', 'line') }} as line_id "
        "from (values ('SO-0001', 1), ('ORD-ü|2', 20), (null, 3)) as t(n, line)"
    )
    model = renderer.render(tmp_path / "ids.sql")
    rows = duckdb.connect().execute(model.sql).fetchall()
    assert rows[0] == (deterministic_id("salesorders", "SO-0001"), deterministic_id("salesorderdetails", "SO-0001", 1))
    assert rows[1] == (deterministic_id("salesorders", "ORD-ü|2"), deterministic_id("salesorderdetails", "ORD-ü|2", 20))
    assert rows[2] == (None, None)
    assert rows[0][0] != rows[1][0] and rows[0][0][14] == "5"
