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
    tmp_path.mkdir(parents=True, exist_ok=True)
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
    models = {"staging/other.sql": "select 1 as x", **models}
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
    ("select 1\n-- was: {{ ref('other') }}\n", "m.sql: ref('other') is called but the SQL never reads its table"),
    ("select\n {{ var('nope') }}", "m.sql:2: var('nope'): no such variable (known: company)"),
    ("select * from {{ latest_per_key('x', 'k', 'm') }}", "m.sql:1: latest_per_key('x', 'k', 'm'): the first argument must be"),
], ids=["undefined", "unknown-ref", "unknown-source", "jinja-syntax", "sql-syntax", "direct-read", "unknown-seed",
        "ref-not-read", "unknown-var", "macro-misuse"])
def test_a_bad_model_is_one_error_naming_file_line_and_name(tmp_path, sql, expected):
    assert expected in render_error(tmp_path, {"staging/m.sql": sql})


def test_cycle_is_reported_with_its_path_and_only_its_models_fail(tmp_path):
    project = load_project(make_project(tmp_path, {
        "staging/a.sql": "select * from {{ ref('b') }}",
        "staging/b.sql": "select * from {{ ref('a') }}",
        "staging/after.sql": "select * from {{ ref('a') }}",
        "staging/free.sql": "select 1 as x",
    }), {})
    assert set(project.errors) == {"a", "b"} and project.order == ("after", "free")
    assert "a.sql: models form a cycle: " in str(project.errors["a"])
    assert "a -> b -> a" in str(project.errors["a"]) or "b -> a -> b" in str(project.errors["a"])


def test_two_models_with_one_name_are_an_error_for_that_name_only(tmp_path):
    project = load_project(make_project(tmp_path, {"staging/m.sql": "select 1", "flows/m.sql": "select 2",
                                                   "staging/free.sql": "select 1 as x"}), {})
    assert list(project.errors) == ["m"] and project.order == ("free",)
    assert str(project.errors["m"]) == f"{tmp_path}/flows/m.sql: a model named 'm' already exists at {tmp_path}/staging/m.sql"


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


def test_macros_latest_per_key_and_blank_to_return_sqlglot_sql(tmp_path):
    import duckdb

    root = make_project(tmp_path, {
        "staging/latest.sql": "select accountid, {{ blank_to('name', 'US') }} as country "
                              "from {{ latest_per_key(source('sales', 'accounts'), 'accountid', 'name desc') }} as a",
    })
    project = load_project(root, {})
    assert project.errors == {}
    model = project.models["latest"]
    assert model.sources == {("sales", "accounts")}
    con = duckdb.connect()
    con.execute("create schema raw_sales")
    con.execute("create table raw_sales.accounts as select * from (values ('1', 'b'), ('1', 'c'), ('2', '  '), ('3', null)) t(accountid, name)")
    assert con.execute(model.sql + " order by 1").fetchall() == [("1", "c"), ("2", "US"), ("3", "US")]


def test_value_map_without_default_is_recorded_for_coverage(tmp_path):
    root = make_project(tmp_path, {
        "staging/m.sql": "select {{ value_map('country', 'name') }} as a, {{ value_map('country', 'name', default=none) }} as b "
                         "from {{ source('sales', 'accounts') }}",
    }, {"country": "source_value,target_value\nno,NO\n"})
    [first, second] = load_project(root, {}).models["m"].value_maps
    assert (first.seed, first.expression, first.has_default) == ("country", "name", False)
    assert second.has_default  # an explicit default (even null) means "unmapped is fine"


@pytest.mark.parametrize("config, expected", [
    ("materialize='view'", "m.sql:1: config(): unknown setting(s) materialize"),
    ("checks=[{'unique_key': ['a']}]", "m.sql:1: check 'unique_key': unknown kind"),
    ("checks=[{'accepted_values': {'column': 'a'}}]", "m.sql:1: check accepted_values: missing values"),
    ("checks=[{'row_count': {'min': 'one'}}]", "m.sql:1: check row_count: give min and/or max as whole numbers"),
    ("checks=[{'relationships': {'column': 'a', 'to': 'nowhere', 'field': 'b'}}]",
     "m.sql: check relationships: no model named 'nowhere'"),
], ids=["unknown-setting", "unknown-check", "missing-argument", "bad-bound", "unknown-relationship-model"])
def test_bad_config_names_file_line_and_setting(tmp_path, config, expected):
    assert expected in render_error(tmp_path, {"staging/m.sql": "{{ config(" + config + ") }}select 1 as a"})


def test_project_toml_vars_are_read_and_the_profile_overrides_them(tmp_path):
    root = make_project(tmp_path, {"staging/m.sql": "select {{ var('fno_company') }} as c, {{ var('threshold') }} as t"})
    (root / "project.toml").write_text('[vars]\nfno_company = "usmf"  # the default\nthreshold = 5\n')
    assert "'usmf' as c, 5 as t" in load_project(root, {}).models["m"].sql
    assert "'demf' as c, 5 as t" in load_project(root, {"fno_company": "demf"}).models["m"].sql
    (root / "project.toml").write_text('[vars]\nfno_company = "usmf"\n[settings]\n')
    with pytest.raises(ModelError, match=r"project.toml: unknown table\(s\) settings"):
        load_project(root, {})


def test_the_real_project_toml_has_vars_every_model_renders_with(tmp_path):
    from extract.profile import PROJECT_DIR

    project = load_project(PROJECT_DIR / "models", {})
    assert project.variables["fno_company"] == "usmf"
    assert load_project(PROJECT_DIR / "models", {"fno_company": "demf"}).variables["fno_company"] == "demf"
