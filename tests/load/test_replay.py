"""`p2c plan --as-of RUN`: today's models on a past run's raw state, in memory, leaving the live tables alone."""

from __future__ import annotations

import json

from emulate.catalog import ACCOUNTS
from tests.flows.conftest import FlowRun

NAME = "coalesce(a.name, '')                                       as OrganizationName"


def as_of(run: FlowRun, run_id: int, *extra: str) -> dict:
    result = run.cli("plan", "--profile", str(run.profile), "--as-of", str(run_id), "--json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def live(run: FlowRun) -> tuple:
    """What `plan --as-of` must leave as it was: runs, plans, the built models, the raw tables."""
    return tuple(run.query(sql)[0] for sql in (
        "select count(*), max(run_id) from p2c_meta.runs",
        "select count(*) from p2c_meta.plans",
        "select count(*), sum(hash(OrganizationName)) from models.customers_from_accounts",
        "select count(*), sum(hash(_p2c_hash)) from raw_sales.accounts",
        "select count(*) from raw_fno.CustomersV2__history",
    ))


def test_plan_as_of_a_past_run_uses_that_runs_raw_state_and_todays_models(cli, tenant, tmp_path, monkeypatch):
    run = FlowRun(cli, tenant, tmp_path, monkeypatch, "accounts")
    first = run()
    synced = {c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2")}
    account = next(a for a in tenant.sales.rows("accounts") if a["accountnumber"] in synced and a["name"])
    number, old_name = account["accountnumber"], account["name"]
    tenant.sales.writes.edit(ACCOUNTS, account["accountid"], {"name": "Renamed in Sales"})
    second = run()
    assert second["targets"]["fno.CustomersV2"]["update"] == 1
    assert as_of(run, first["run_id"])["operations"] == 0  # run 1 left the targets as its models wanted

    # today's mapping upper-cases the organisation name: what would it have sent after run 1, and after run 2?
    model = run.models / "flows" / "customers_from_accounts.sql"
    assert NAME in model.read_text()
    model.write_text(model.read_text().replace(NAME, NAME.replace("coalesce(a.name, '')", "upper(coalesce(a.name, ''))")))
    before = live(run)
    customers = sorted(map(str, tenant.fno.rows("CustomersV2")))

    then = as_of(run, first["run_id"], "--show")
    now = as_of(run, second["run_id"], "--show")
    assert then["as_of"] == first["run_id"] and then["stored"] is False
    changed = {i["key"]["CustomerAccount"]: i["changes"] for i in then["items"]}
    assert changed[number] == [{"field": "OrganizationName", "old": old_name, "new": old_name.upper()}]  # run 1's name
    assert {i["key"]["CustomerAccount"]: i["changes"] for i in now["items"]}[number] == [
        {"field": "OrganizationName", "old": "Renamed in Sales", "new": "RENAMED IN SALES"}]
    assert all([c["field"] for c in ch] == ["OrganizationName"] for ch in changed.values())  # only the mapping change
    assert then["counts"] == {"fno.CustomersV2": {"update": len(changed)}}

    assert live(run) == before  # nothing stored, no run recorded, live models and raw tables as they were
    assert sorted(map(str, tenant.fno.rows("CustomersV2"))) == customers  # nothing sent
    pushed = cli("push", "--profile", str(run.profile), "--plan", then["plan_id"])
    assert pushed.exit_code != 0 and "no plan with id" in pushed.output

    text = cli("plan", "--profile", str(run.profile), "--as-of", str(first["run_id"]))
    assert text.exit_code == 0 and f"raw state at the end of run {first['run_id']}; not stored, cannot be pushed" in text.stdout
    assert f"fno.CustomersV2                    {len(changed)} update" in text.stdout

    missing = cli("plan", "--profile", str(run.profile), "--as-of", "99")
    assert missing.exit_code != 0 and "--as-of 99: no such run" in missing.output
