"""The audit queries of docs/staging.md run against the scenario's staging database, and say what
the audit commands say. Every query in the page has an expectation here, and the other way round."""

import json
import re

import duckdb
import pytest

from extract.profile import PROJECT_DIR

PAGE = PROJECT_DIR / "docs" / "staging.md"
DOC_ACCOUNT = "ACC-01000-BVRCPS"  # the account number the page uses; each test puts one of the scenario's


def page_queries() -> dict[str, str]:
    text = PAGE.read_text(encoding="utf-8")
    found = re.findall(r"<!-- audit-query: ([\w-]+) -->\n```sql\n(.*?)```", text, flags=re.S)
    assert len(found) == text.count("```sql"), "every sql block in docs/staging.md needs an <!-- audit-query: name --> line"
    return dict(found)


def run(staging, name: str, account: str | None = None) -> list[tuple]:
    sql = page_queries()[name]
    if account is not None:
        assert DOC_ACCOUNT in sql
        sql = sql.replace(DOC_ACCOUNT, account)
    with duckdb.connect(str(staging), read_only=True) as con:
        return con.execute(sql).fetchall()


def check_last_runs(s):
    rows = run(s.staging, "last-runs")
    status = s.json("status")
    assert {(r[0], r[1], r[2]) for r in rows} == {
        (run_["run_id"], st["stage"], st["status"]) for run_ in status["runs"] for st in run_["stages"]}
    assert all(r[5] >= 0 for r in rows)


def check_run_extract(s):
    shown = s.json("runs", "show", "2")["extract"]
    assert run(s.staging, "run-extract") == sorted(
        (e["entity"], e["received"], e["new"], e["changed"], e["deleted"], e["read"]) for e in shown)


def check_run_pushes(s):
    shown = s.json("runs", "show", "2")["pushes"]
    assert run(s.staging, "run-pushes") == [(p["flow"], p["system"], p["entity"], p["action"], p["status"], p["records"])
                                            for p in shown]


def check_pending_retries(s):
    assert run(s.staging, "pending-retries") == []
    [row] = run(s.snapshots[2], "pending-retries")
    assert (json.loads(row[2])["CustomerAccount"], row[3], row[6], row[7]) == (s.refused, "failed", 2, 1)
    assert "CustomerGroupId" in row[5]


def check_conflicts(s):
    assert run(s.staging, "conflicts") == [
        (n, s.conflicted, "AddressCity", "Vancouver", "Edited in F&O", "Whitehorse", "blocked") for n in (2, 4)]


def check_account_versions(s):
    rows = run(s.staging, "account-versions", s.conflicted)
    assert [(r[0], r[1], r[2], r[4]) for r in rows] == [(1, 2, False, "Vancouver"), (2, None, False, "Whitehorse")]


def check_accounts_as_of_run(s):
    rows = {r[0]: r for r in run(s.staging, "accounts-as-of-run")}
    received = s.json("runs", "show", "1")["extract"]
    assert len(rows) == next(e["received"] for e in received if e["entity"] == "sales.accounts")
    assert rows[s.conflicted][2] == "Vancouver" and s.refused not in rows  # as it was, before run 2


def check_customer_pushes(s):
    rows = run(s.staging, "customer-pushes", s.refused)
    assert [(r[0], r[2], r[3], r[5]) for r in rows] == [(2, "insert", "failed", 1), (4, "insert", "ok", 2)]


def check_drifted_customers(s):
    assert run(s.staging, "drifted-customers") == [(s.conflicted, "Vancouver", "Edited in F&O", 1)]


def check_failed_checks(s):
    [(run_id, model, check, failing, message)] = run(s.staging, "failed-checks")
    assert (run_id, model, check, failing) == (3, "customers", "accepted_values(CustomerGroupId)", 1)
    assert "'99'" in message


EXPECTATIONS = {name[len("check_"):].replace("_", "-"): f for name, f in globals().items() if name.startswith("check_")}


def test_every_query_on_the_page_has_an_expectation():
    assert set(page_queries()) == set(EXPECTATIONS)


@pytest.mark.parametrize("name", sorted(EXPECTATIONS))
def test_docs_query(scenario, name):
    EXPECTATIONS[name](scenario)
