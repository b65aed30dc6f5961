"""Pushing plans to the emulated tenant over HTTPS: batches, read-back, documents, conflicts, staleness."""

from __future__ import annotations

import json

from emulate.scenario_client import SalesUser
from tests.load.conftest import service_client


def ok(cli, *args):
    result = cli(*args)
    assert result.exit_code == 0, result.output
    return result


def plan(cli, project) -> dict:
    return json.loads(ok(cli, "plan", "--profile", str(project.profile), "--json", "--show").stdout)


def customers(tenant) -> dict:
    return {c["CustomerAccount"]: c for c in tenant.fno.rows("CustomersV2") if c["CustomerAccount"].startswith("T-")}


def test_push_inserts_in_one_batch_reads_back_and_then_updates_only_changed_fields(cli, project, tenant):
    project.seed("customers", [{"account": f"T-{n}", "name": f"Name {n}", "city": "Oslo", "note": "new"} for n in range(5)])
    ok(cli, "extract", "--profile", str(project.profile))
    ok(cli, "build", "--profile", str(project.profile))
    planned = plan(cli, project)
    assert planned["counts"] == {"fno.CustomersV2": {"insert": 5}}
    assert planned["breakdown"] == [{"flow": "accounts", "system": "fno", "entity": "CustomersV2", "company": "usmf",
                                     "action": "insert", "count": 5}]
    ok(cli, "push", "--profile", str(project.profile), "--plan", planned["plan_id"])
    assert {k: (c["OrganizationName"], c["AddressCity"]) for k, c in customers(tenant).items()} == {
        f"T-{n}": (f"Name {n}", "Oslo") for n in range(5)}
    assert project.query("select count(*), count(distinct batch_id), max(operations) from p2c_meta.push_batches") == [(1, 1, 5)]
    # read-back: without another extract, the next plan already sees what landed
    assert plan(cli, project)["operations"] == 0

    project.seed("customers", [{"account": f"T-{n}", "name": f"Name {n}", "city": "Bergen" if n == 2 else "Oslo"}
                               for n in range(5)])
    ok(cli, "build", "--profile", str(project.profile))
    planned = plan(cli, project)
    [item] = planned["items"]
    assert (item["action"], item["key"]["CustomerAccount"], item["changes"]) == (
        "update", "T-2", [{"field": "AddressCity", "old": "Oslo", "new": "Bergen"}])
    ok(cli, "push", "--profile", str(project.profile))
    assert customers(tenant)["T-2"]["AddressCity"] == "Bergen"
    assert project.query("select status, attempt from p2c_meta.push_log where key->>'CustomerAccount' = 'T-2' order by sent_at") == [
        ("ok", 1), ("ok", 2)]
    # the read-back is history too (SCD2, as extract lands it): T-2's Oslo version closed by the push that wrote Bergen
    versions = project.query("select AddressCity, _p2c_valid_from_run, _p2c_valid_to_run from raw_fno.CustomersV2__history"
                             " where CustomerAccount = 'T-2' order by _p2c_valid_from_run")
    pushes = [r for (r,) in project.query("select run_id from p2c_meta.push_log where key->>'CustomerAccount' = 'T-2' order by sent_at")]
    assert versions == [("Oslo", pushes[0], pushes[1]), ("Bergen", pushes[1], None)]


def first_run(cli, project, rows):
    project.seed("customers", rows)
    ok(cli, "run", "--profile", str(project.profile))


def edit_customer(tenant, account, **values):
    with service_client(tenant, "fno") as fno:
        response = fno.patch(f"CustomersV2(dataAreaId='usmf',CustomerAccount='{account}')", params={"cross-company": "true"},
                             json=values)
        assert response.status_code == 204, response.text


def failing(cli, code, *args):
    """Run a command that must fail with exit ``code`` (audit/exit_codes.py: 3 blocked, 4 records not written)."""
    result = cli(*args)
    assert result.exit_code == code, result.output
    return result.output


def test_a_failing_fno_change_set_rolls_back_its_whole_document_while_other_documents_land(cli, project, tenant):
    customer = next(c for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf")["CustomerAccount"]
    product = next(p for p in tenant.fno.rows("SellableReleasedProducts") if p["dataAreaId"] == "usmf")["ProductNumber"]
    project.seed("orders", [{"number": f"T-ORD-{d}", "customer": customer, "name": d} for d in "ABC"])
    project.seed("order_lines", [{"id": f"{d}{n}", "number": f"T-ORD-{d}", "line": n, "quantity": n,
                                  "product": "NO-SUCH-ITEM" if (d, n) == ("B", 2) else product}
                                 for d in "ABC" for n in (1, 2)])
    output = failing(cli, 4, "run", "--profile", str(project.profile))
    assert "Item number NO-SUCH-ITEM does not exist" in output
    headers = {h["SalesOrderNumber"] for h in tenant.fno.rows("CDSSalesOrderHeaders")}
    lines = {(l["SalesOrderNumber"], l["LineCreationSequenceNumber"]) for l in tenant.fno.rows("CDSSalesOrderLines")}
    assert {"T-ORD-A", "T-ORD-C"} <= headers and "T-ORD-B" not in headers
    assert {("T-ORD-A", 1), ("T-ORD-A", 2), ("T-ORD-C", 1), ("T-ORD-C", 2)} <= lines
    assert not {l for l in lines if l[0] == "T-ORD-B"}
    outcomes = dict(project.query(
        "select key->>'SalesOrderNumber' || '/' || coalesce(key->>'LineCreationSequenceNumber', 'header'), status"
        " from p2c_meta.push_log where key->>'SalesOrderNumber' = 'T-ORD-B'"))
    assert outcomes == {"T-ORD-B/header": "rolled_back", "T-ORD-B/1": "rolled_back", "T-ORD-B/2": "failed"}
    # one change set per document (header with its lines), all three documents in one request
    assert project.query("select count(*), sum(operations) from p2c_meta.push_batches where system = 'fno'") == [(1, 9)]

    project.seed("order_lines", [{"id": f"{d}{n}", "number": f"T-ORD-{d}", "line": n, "quantity": n, "product": product}
                                 for d in "ABC" for n in (1, 2)])
    ok(cli, "run", "--profile", str(project.profile))  # the fixed document lands; the others are not sent again
    assert "T-ORD-B" in {h["SalesOrderNumber"] for h in tenant.fno.rows("CDSSalesOrderHeaders")}
    assert project.query("select max(attempt) from p2c_meta.push_log where key->>'SalesOrderNumber' = 'T-ORD-B'"
                         " and status = 'ok'") == [(2,)]
    assert project.query("select count(*) from p2c_meta.push_log where key->>'SalesOrderNumber' = 'T-ORD-A'") == [(3,)]


def test_a_plan_is_refused_when_the_target_changed_since_planning(cli, project, tenant):
    first_run(cli, project, [{"account": f"T-{n}", "name": f"Name {n}", "city": "Oslo"} for n in range(3)])
    project.seed("customers", [{"account": f"T-{n}", "name": f"Renamed {n}", "city": "Oslo"} for n in range(3)])
    ok(cli, "build", "--profile", str(project.profile))
    planned = plan(cli, project)
    edit_customer(tenant, "T-1", OrganizationName="Edited in F&O")
    output = failing(cli, 3, "push", "--profile", str(project.profile), "--plan", planned["plan_id"])
    assert f"plan {planned['plan_id']} is stale" in output and "CustomersV2 usmf/T-1" in output
    assert {k: c["OrganizationName"] for k, c in customers(tenant).items()} == {
        "T-0": "Name 0", "T-1": "Edited in F&O", "T-2": "Name 2"}  # nothing was pushed


def test_a_guardrail_breach_stops_the_push_before_any_write(cli, project, tenant):
    project.configure(guardrails={"max_update_share": 0.01, "min_updates_checked": 1})  # of every CustomersV2 record
    first_run(cli, project, [{"account": f"T-{n}", "name": f"Name {n}", "city": "Oslo"} for n in range(4)])
    project.seed("customers", [{"account": f"T-{n}", "name": f"Name {n}", "city": "" if n == 0 else "Bergen"} for n in range(4)])
    output = failing(cli, 3, "run", "--profile", str(project.profile))
    assert "guardrail breached, nothing was pushed" in output
    assert "exceed max_update_share 1%" in output
    assert "field AddressCity: would be emptied (was 'Oslo')" in output
    assert {c["AddressCity"] for c in customers(tenant).values()} == {"Oslo"}


def test_a_conflict_is_blocked_or_overwritten_by_the_rule(cli, project, tenant):
    project.configure(rule="block")
    first_run(cli, project, [{"account": "T-1", "name": "Name", "city": "Oslo"}, {"account": "T-2", "name": "Two", "city": "Oslo"}])
    edit_customer(tenant, "T-1", AddressCity="Edited in F&O")
    project.seed("customers", [{"account": "T-1", "name": "Name", "city": "Bergen"}, {"account": "T-2", "name": "Two", "city": "Bergen"}])
    ok(cli, "extract", "--profile", str(project.profile))
    ok(cli, "build", "--profile", str(project.profile))
    planned = plan(cli, project)
    assert planned["counts"] == {"fno.CustomersV2": {"conflict": 1, "update": 1}}
    [blocked] = [i for i in planned["items"] if i["action"] == "conflict"]
    assert blocked["conflicts"] == [{"field": "AddressCity", "base": "Oslo", "actual": "Edited in F&O", "desired": "Bergen",
                                     "resolution": "blocked"}]
    held = cli("push", "--profile", str(project.profile))
    assert held.exit_code == 3 and "1 record(s) held back by a conflict" in held.stderr  # blocked, not a crash
    assert {k: c["AddressCity"] for k, c in customers(tenant).items()} == {"T-1": "Edited in F&O", "T-2": "Bergen"}
    assert project.query("select status from p2c_meta.push_log where key->>'CustomerAccount' = 'T-1' order by sent_at desc limit 1") == [
        ("conflict",)]

    project.configure(rule="source_wins")
    ok(cli, "run", "--profile", str(project.profile))
    assert customers(tenant)["T-1"]["AddressCity"] == "Bergen"
