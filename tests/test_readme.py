"""The README's audit queries run against a real staging database after a sync."""

import json
import re

import duckdb

from extract.profile import PROJECT_DIR

README_ACCOUNT = "ACC-01000-BVRCPS"


def readme_queries() -> list[str]:
    text = (PROJECT_DIR / "README.md").read_text()
    return re.findall(r"```sql\n(.*?)```", text, flags=re.S)


def test_readme_audit_query_tells_a_customers_push_history(cli, profile, tmp_path):
    first = json.loads(cli("run", "--profile", str(profile), "--json").stdout)
    assert first["targets"]["fno.CustomersV2"]["insert"] > 0
    queries = [q for q in readme_queries() if "p2c_meta" in q]
    assert queries, "the README shows no audit query"
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        account = con.execute("select CustomerAccount from models.customers_from_accounts order by 1 limit 1").fetchone()[0]
        for query in queries:
            rows = con.execute(query.replace(README_ACCOUNT, account)).fetchall()
            assert rows == [(first["run_id"], "insert", "ok", 201, "")]


def test_readme_why_not_synced_query_names_a_reason_for_each_record_left_out(cli, profile, tmp_path):
    assert cli("run", "--profile", str(profile), "--json").exit_code == 0
    queries = [q for q in readme_queries() if "excluded_because" in q]
    assert queries, "the README shows no why-not-synced query"
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as con:
        for query in queries:
            rows = con.execute(query).fetchall()
            assert rows and all(number and reason for number, reason in rows)
            synced = con.execute("select count(*) from models.quotation_headers_from_quotes").fetchone()[0]
            total = con.execute("select count(*) from models.stg_sales__quotes").fetchone()[0]
            assert synced + len(rows) == total  # every quote either syncs or says why not
