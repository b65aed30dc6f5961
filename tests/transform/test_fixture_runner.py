"""The golden-fixture runner on a small project: discovery, stubs, [vars], and one-line failures."""

import pytest

from transform.errors import FixtureError
from transform.fixtures import discover, run_case

from .test_render import make_project

MODELS = {
    "staging/stg.sql": "select accountid, trim(name) as name from {{ source('sales', 'accounts') }} where not _p2c_deleted",
    "flows/f.sql": "select accountid, {{ value_map('country', 'name', default=var('fallback')) }} as iso, "
                   "coalesce(name, '') as name from {{ ref('stg') }}",
}
SEEDS = {"country": "source_value,target_value\nnorway,NO\n"}


def write_case(root, model, name, files):
    folder = root / "tests" / model / name
    folder.mkdir(parents=True)
    for filename, text in {"case.toml": 'description = "a case"\n', **files}.items():
        (folder / filename).write_text(text)
    return folder


@pytest.fixture
def root(tmp_path):
    root = make_project(tmp_path, MODELS, SEEDS)
    (root / "project.toml").write_text('[vars]\nfallback = "US"\n')
    return root


def only_case(root):
    [case] = discover(root / "tests")
    return case


def test_a_passing_case_builds_the_chain_from_raw_rows(root):
    write_case(root, "f", "maps", {
        "sales.accounts.csv": "accountid,name,_p2c_deleted\n1, Norway ,\n2,,\n3,gone,true\n",
        "expected.csv": 'accountid,iso,name\n1,NO,Norway\n2,US,""\n',
    })
    case = only_case(root)
    assert case.id == "f/maps"
    assert run_case(root, case).passed


def test_a_failing_case_is_one_line_naming_the_case_and_the_missing_and_extra_rows(root):
    write_case(root, "f", "wrong", {
        "sales.accounts.csv": "accountid,name\n1,Norway\n2,Spain\n",
        "expected.csv": "accountid,iso\n1,NO\n2,ES\n",
    })
    outcome = run_case(root, only_case(root))
    line = outcome.failure_line()
    assert not outcome.passed and "\n" not in line
    assert line.endswith("tests/f/wrong: 1 missing row(s): {'accountid': '2', 'iso': 'ES'}; "
                         "1 extra row(s): {'accountid': '2', 'iso': 'US'}")


def test_empty_cell_is_null_and_the_failure_hints_at_quoting(root):
    write_case(root, "f", "blank", {"sales.accounts.csv": "accountid,name\n1,\n", "expected.csv": "accountid,name\n1,\n"})
    line = run_case(root, only_case(root)).failure_line()
    assert "differ only in NULL vs ''" in line and 'write "" for an empty string' in line


def test_upstream_stub_and_case_vars(root):
    folder = write_case(root, "f", "stubbed", {
        "stg.csv": "accountid,name\n7,Atlantis\n",
        "expected.csv": "accountid,iso\n7,XX\n",
    })
    (folder / "case.toml").write_text('description = "stub"\n[vars]\nfallback = "XX"\n')
    assert run_case(root, only_case(root)).passed


def test_new_case_folders_are_picked_up(root):
    write_case(root, "stg", "b_case", {"expected.csv": "accountid\n"})
    write_case(root, "f", "a_case", {"expected.csv": "accountid\n"})
    assert [c.id for c in discover(root / "tests")] == ["f/a_case", "stg/b_case"]
    assert all(run_case(root, c).passed for c in discover(root / "tests"))  # no input rows, no output rows


@pytest.mark.parametrize("files, message", [
    ({"sales.contacts.csv": "x\n", "expected.csv": "accountid\n"}, "sales.contacts.csv: not a source"),
    ({"sales.accounts.csv": "accountid,nope\n", "expected.csv": "accountid\n"}, "sales.accounts.csv:1: unknown column(s) nope"),
    ({"sales.accounts.csv": "accountid,name\n1\n", "expected.csv": "accountid\n"}, "sales.accounts.csv:2: expected 2 values, found 1"),
    ({"expected.csv": "accountid,missing_col\n"}, "expected.csv:1: f has no column(s) missing_col"),
    ({"f.csv": "accountid\n", "expected.csv": "accountid\n"}, "f.csv: the model under test cannot be stubbed"),
    ({}, "expected.csv is missing"),
], ids=["unknown-source", "unknown-column", "ragged", "unknown-expected-column", "stub-self", "no-expected"])
def test_a_malformed_case_is_one_error_naming_the_file(root, files, message):
    write_case(root, "f", "bad", files)
    with pytest.raises(FixtureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        run_case(root, only_case(root))
