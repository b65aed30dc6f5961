"""`p2c compile`, `p2c build --select`, `p2c check` and `p2c lineage` on a real DuckDB file."""

import json

import duckdb
import pytest

from extract.profile import EmulatedTenantSettings, write_profile

from .test_render import make_project


@pytest.fixture
def project(tmp_path):
    root = make_project(tmp_path / "models", {
        "staging/stg.sql": "select * from {{ source('sales', 'accounts') }}",
        "flows/f.sql": "{{ config(flow='accounts', target={'system': 'fno', 'entity': 'X', 'key': ['accountid']}, "
                       "checks=[{'row_count': {'max': 3}}]) }}"
                       "select accountid, {{ value_map('country', 'name', default='US') }} as iso from {{ ref('stg') }}",
        "staging/other.sql": "select 1 as x",
    }, {"country": "source_value,target_value\nnorway,NO\n"})
    staging = tmp_path / "staging.duckdb"
    with duckdb.connect(str(staging)) as con:
        con.execute("create schema raw_sales")
        con.execute("create table raw_sales.accounts as select * from (values ('1', 'Norway'), ('2', 'x')) t(accountid, name)")
    # an emulated profile: these commands never connect, so no tenant is started
    profile = write_profile(tmp_path / "p.toml", staging_database=staging, models_dir=root,
                            emulated=EmulatedTenantSettings(tmp_path / "tenant", 1, 1))
    return root, staging, str(profile)


def test_compile_prints_the_rendered_sql(cli, project):
    _, _, profile = project
    result = cli("compile", "f", "--profile", profile)
    assert result.exit_code == 0, result.output
    assert 'from "models"."stg"' in result.stdout and "COALESCE((SELECT" in result.stdout and "{{" not in result.stdout
    missing = cli("compile", "nope", "--profile", profile)
    assert missing.exit_code == 1 and "no model named 'nope'" in missing.stderr


def test_build_select_then_check_with_json(cli, project):
    root, staging, profile = project
    result = cli("build", "--select", "+f", "--profile", profile, "--json")
    assert result.exit_code == 0, result.output
    assert [(r["model"], r["status"], r["rows"]) for r in json.loads(result.stdout)] == [("stg", "ok", 2), ("f", "ok", 2)]
    checked = cli("check", "--select", "f", "--profile", profile, "--json")
    assert checked.exit_code == 0, checked.output
    assert [(c["model"], c["check"], c["status"]) for c in json.loads(checked.stdout)] == [
        ("f", "not_null(accountid)", "pass"), ("f", "unique(accountid)", "pass"), ("f", "row_count(max=3)", "pass")]
    unbuilt = cli("check", "--profile", profile)  # `other` was left out of the build
    assert unbuilt.exit_code == 1 and "other.sql: not built yet; run `p2c build`" in unbuilt.stderr
    # more rows than the guard allows: `p2c check` fails, shows the offending rows, and plan would block f
    with duckdb.connect(str(staging)) as con:
        con.execute("insert into raw_sales.accounts values ('3', 'a'), ('4', 'b')")
    assert cli("build", "--select", "stg", "--profile", profile).exit_code == 0
    (root / "flows" / "f.sql").write_text((root / "flows" / "f.sql").read_text().replace("from {{ ref('stg') }}",
                                          "from {{ ref('stg') }} union all select '9', 'x'"))
    failed = cli("build", "--select", "f", "--profile", profile)
    assert failed.exit_code == 3  # blocked: a failed check holds the model's push back (audit/exit_codes.py)
    assert "check row_count(max=3) failed: 1 offending row(s), e.g. rows=5" in failed.stderr
    assert "1 offending row(s); first 1:" in failed.stdout and "rows=5" in failed.stdout
    with duckdb.connect(str(staging)) as con:
        from transform.build import unbuildable
        assert unbuildable(con, ["f"])["f"].startswith("last build check_failed")
        assert con.execute("select count(*) from models.f").fetchone() == (2,)  # the previous table is kept


def test_lineage_command(cli, project):
    _, _, profile = project
    result = cli("lineage", "X.iso", "--profile", profile)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["f.iso", "  source   sales.accounts.name", "  seed     country.source_value",
                                          "  seed     country.target_value", "  literal  'US'", "  via      stg.name"]
    as_json = json.loads(cli("lineage", "f.accountid", "--profile", profile, "--json").stdout)
    assert as_json == [{"model": "f", "column": "accountid", "sources": ["sales.accounts.accountid"], "seeds": [],
                        "literals": [], "via": ["stg.accountid"]}]
    unknown = cli("lineage", "X.nope", "--profile", profile)
    assert unknown.exit_code == 1 and "no flow model targeting X outputs 'nope'" in unknown.stderr


@pytest.mark.parametrize("edit, expected", [
    ("select 1 as x\n{{ nope }}", "other.sql:2: 'nope' is undefined"),
    ("select 1 as x\n{{ ref('x' }}", "other.sql:2: Jinja syntax error"),
    ("select 1 as x,\nfrom from", "other.sql:2: SQL syntax error"),
    ("select * from {{ ref('nope') }}", "other.sql:1: ref('nope'): no model named 'nope'"),
    ("select * from {{ source('sales', 'nope') }}", "other.sql:1: source('sales', 'nope'): not declared"),
], ids=["undefined", "jinja-syntax", "sql-syntax", "unknown-ref", "unknown-source"])
def test_a_broken_model_is_one_line_and_the_rest_still_builds(cli, project, edit, expected):
    root, staging, profile = project
    (root / "staging" / "other.sql").write_text(edit)
    result = cli("build", "--profile", profile)
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert expected in line
    with duckdb.connect(str(staging)) as con:
        built = {r[0] for r in con.execute("select table_name from information_schema.tables where table_schema = 'models'").fetchall()}
    assert built == {"stg", "f"}


def test_a_cycle_or_a_duplicate_model_name_is_one_line_and_the_rest_still_builds(cli, project):
    root, staging, profile = project
    (root / "flows" / "other.sql").write_text("select 2 as x")
    result = cli("build", "--profile", profile)
    assert result.exit_code == 1 and "a model named 'other' already exists" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    (root / "flows" / "other.sql").unlink()
    (root / "staging" / "other.sql").write_text("select * from {{ ref('loop') }}")
    (root / "staging" / "loop.sql").write_text("select * from {{ ref('other') }}")
    result = cli("build", "--profile", profile, "--json")
    assert result.exit_code == 1 and "models form a cycle: " in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    statuses = {r["model"]: r["status"] for r in json.loads(result.stdout)}
    assert statuses == {"loop": "error", "other": "error", "stg": "ok", "f": "ok"}
