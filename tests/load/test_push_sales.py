"""Dataverse pushes: upserts on deterministic ids, If-Match with the planned ETag (412 → conflict), batches of 1,000."""

from __future__ import annotations

import json


import p2c
from emulate.scenario_client import SalesUser
from extract.runs import new_run_id
from load.diff import Change, Operation
from load.plan import PlanItem
from load.push import MAX_OPERATIONS, _batches
from tests.load.test_push import ok, plan
from transform.ids import deterministic_id


def accounts(tenant) -> dict:
    return {a["accountnumber"]: a for a in tenant.sales.rows("accounts") if (a["accountnumber"] or "").startswith("SA-")}


def test_creates_are_upserts_on_the_deterministic_id_and_a_stale_etag_is_a_conflict(cli, project, tenant):
    project.seed("sales_accounts", [{"accountnumber": f"SA-{n}", "name": f"Account {n}", "telephone1": "1"} for n in range(3)])
    ok(cli, "run", "--profile", str(project.profile))
    stored = accounts(tenant)
    assert {n: (a["accountid"], a["name"]) for n, a in stored.items()} == {
        f"SA-{n}": (deterministic_id("accounts", f"SA-{n}"), f"Account {n}") for n in range(3)}

    project.seed("sales_accounts", [{"accountnumber": f"SA-{n}", "name": f"Renamed {n}", "telephone1": "1"} for n in range(3)])
    ok(cli, "run", "--profile", str(project.profile), "--json")  # Sales answers with the rows: read back, no extract needed
    assert {a["name"] for a in accounts(tenant).values()} == {"Renamed 0", "Renamed 1", "Renamed 2"}

    project.seed("sales_accounts", [{"accountnumber": f"SA-{n}", "name": f"Third {n}", "telephone1": "1"} for n in range(3)])
    ok(cli, "build", "--profile", str(project.profile))
    planned = plan(cli, project)
    assert planned["counts"] == {"sales.accounts": {"update": 3}}

    def user_edits_after_the_check(line: str) -> None:  # between the stale-plan check and the write
        if "sent" in line:
            with SalesUser(tenant) as user:
                user.update("accounts", deterministic_id("accounts", "SA-1"), {"name": "Edited in Sales"})

    with p2c.session(str(project.profile), tenant=tenant) as s:
        pushed = p2c.do_push(s, new_run_id(s.con), planned["plan_id"], progress=user_edits_after_the_check)
    assert pushed["counts"] == {"sales.accounts": {"update": 2, "conflict": 1}}
    assert "ETag mismatch" in pushed["conflicts"][0] and "SA-1" in pushed["conflicts"][0]
    assert {n: a["name"] for n, a in accounts(tenant).items()} == {"SA-0": "Third 0", "SA-1": "Edited in Sales", "SA-2": "Third 2"}
    assert project.query("select status, http_status from p2c_meta.push_log where key->>'accountnumber' = 'SA-1'"
                         " order by sent_at desc limit 1") == [("conflict", 412)]


def item(seq: int, doc: str) -> PlanItem:
    return PlanItem(seq, "m", "sales", Operation("e", "insert", (("k", seq),), (Change("f", None, seq),)), doc=doc)


def test_batches_split_at_1000_operations_without_splitting_a_document():
    singles = [item(n, f"d{n}") for n in range(1, 2402)]
    documents = [item(3000 + n, f"doc{n // 7}") for n in range(700)]  # 100 documents of 7 records
    batches = _batches(singles + documents, MAX_OPERATIONS)
    sizes = [sum(map(len, docs)) for _, docs in batches]
    assert MAX_OPERATIONS == 1000 and max(sizes) <= 1000 and sum(sizes) == 3101 and len(batches) == 4
    where = {}
    for number, (_, docs) in enumerate(batches):
        for doc in docs:
            assert len({i.doc for i in doc}) == 1
            where.setdefault(doc[0].doc, set()).add(number)
    assert all(len(found) == 1 for found in where.values())  # every document within one batch


def test_1001_creates_go_in_two_batches(cli, project, tenant):
    project.seed("sales_accounts", [{"accountnumber": f"SA-{n:04}", "name": f"Bulk {n}", "telephone1": ""} for n in range(1001)])
    ok(cli, "run", "--profile", str(project.profile))
    assert len(accounts(tenant)) == 1001
    assert project.query("select operations from p2c_meta.push_batches order by batch_id") == [(1000,), (1,)]


ORDER_SOURCES = """
[sales.salesorders]
key = ["salesorderid"]
incremental = "full"
[sales.salesorders.columns]
salesorderid = "VARCHAR"
ordernumber = "VARCHAR"
name = "VARCHAR"
_customerid_value = "VARCHAR"
_transactioncurrencyid_value = "VARCHAR"
_pricelevelid_value = "VARCHAR"
versionnumber = "BIGINT"

[sales.salesorderdetails]
key = ["salesorderdetailid"]
incremental = "full"
[sales.salesorderdetails.columns]
salesorderdetailid = "VARCHAR"
_salesorderid_value = "VARCHAR"
sequencenumber = "INTEGER"
_productid_value = "VARCHAR"
_uomid_value = "VARCHAR"
quantity = "DECIMAL(19,4)"
versionnumber = "BIGINT"
"""

ORDERS = """{{ config(flow="orders", target={"system": "sales", "entity": "salesorders", "key": ["ordernumber"], "id": "salesorderid",
    "binds": {"_customerid_value": {"property": "customerid_account", "entity": "accounts"},
              "_transactioncurrencyid_value": {"property": "transactioncurrencyid", "entity": "transactioncurrencies"},
              "_pricelevelid_value": {"property": "pricelevelid", "entity": "pricelevels"}}}) }}
select {{ deterministic_id('salesorders', 'o.number') }} as salesorderid, o.number as ordernumber, o.name,
       o.customer as _customerid_value, o.currency as _transactioncurrencyid_value, o.pricelevel as _pricelevelid_value
from seeds.sales_orders as o
"""

ORDER_LINES = """{{ config(flow="orders", target={"system": "sales", "entity": "salesorderdetails",
    "key": ["_salesorderid_value", "sequencenumber"], "id": "salesorderdetailid",
    "binds": {"_salesorderid_value": {"property": "salesorderid", "entity": "salesorders"},
              "_productid_value": {"property": "productid", "entity": "products"},
              "_uomid_value": {"property": "uomid", "entity": "uoms"}},
    "parent": {"model": "sales_orders", "on": {"_salesorderid_value": "salesorderid"}}}) }}
select {{ deterministic_id('salesorderdetails', 'l.number', 'l.line') }} as salesorderdetailid,
       {{ deterministic_id('salesorders', 'l.number') }} as _salesorderid_value, cast(l.line as integer) as sequencenumber,
       l.product as _productid_value, l.uom as _uomid_value, cast(l.quantity as decimal(19, 4)) as quantity
from seeds.sales_order_lines as l
"""


def write_seed(path, rows):
    import csv
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_sales_orders_go_with_their_lines_in_one_change_set_with_odata_binds(cli, project, tenant):
    (project.models / "sources" / "sales_orders.toml").write_text(ORDER_SOURCES)
    (project.models / "flows" / "sales_orders.sql").write_text(ORDERS)
    (project.models / "flows" / "sales_order_lines.sql").write_text(ORDER_LINES)
    account = next(a for a in tenant.sales.rows("accounts") if a["statecode"] == 0)
    level = tenant.sales.rows("pricelevels")[0]
    product = next(p for p in tenant.sales.rows("products") if p["statecode"] == 0 and p["_defaultuomid_value"])
    write_seed(project.models / "seeds" / "sales_orders.csv", [
        {"number": f"SO-T-{n}", "name": f"Order {n}", "customer": account["accountid"],
         "currency": level["_transactioncurrencyid_value"], "pricelevel": level["pricelevelid"]} for n in (1, 2)])
    write_seed(project.models / "seeds" / "sales_order_lines.csv", [
        {"id": f"{n}-{line}", "number": f"SO-T-{n}", "line": line, "product": product["productid"],
         "uom": product["_defaultuomid_value"], "quantity": line} for n in (1, 2) for line in (1, 2)])
    ok(cli, "run", "--profile", str(project.profile))
    orders = {o["ordernumber"]: o for o in tenant.sales.rows("salesorders") if (o["ordernumber"] or "").startswith("SO-T-")}
    assert {n: (o["salesorderid"], o["_customerid_value"], o["_pricelevelid_value"]) for n, o in orders.items()} == {
        f"SO-T-{n}": (deterministic_id("salesorders", f"SO-T-{n}"), account["accountid"], level["pricelevelid"]) for n in (1, 2)}
    lines = [l for l in tenant.sales.rows("salesorderdetails") if l["_salesorderid_value"] in {o["salesorderid"] for o in orders.values()}]
    assert sorted((l["_salesorderid_value"], l["sequencenumber"], l["_productid_value"]) for l in lines) == sorted(
        (deterministic_id("salesorders", f"SO-T-{n}"), line, product["productid"]) for n in (1, 2) for line in (1, 2))
    # both documents (header + 2 lines each, one change set apiece) went in one request
    assert project.query("select count(*), sum(operations) from p2c_meta.push_batches where system = 'sales'") == [(1, 6)]
    assert project.query("select count(distinct doc) from p2c_meta.plan") == [(2,)]


def test_lines_of_a_header_matched_under_another_id_name_the_actual_id(cli, project, tenant):
    (project.models / "sources" / "sales_orders.toml").write_text(ORDER_SOURCES)
    (project.models / "flows" / "sales_orders.sql").write_text(ORDERS)
    (project.models / "flows" / "sales_order_lines.sql").write_text(ORDER_LINES)
    account = next(a for a in tenant.sales.rows("accounts") if a["statecode"] == 0)
    level = tenant.sales.rows("pricelevels")[0]
    product = next(p for p in tenant.sales.rows("products") if p["statecode"] == 0 and p["_defaultuomid_value"])
    with SalesUser(tenant) as user:  # a Sales user made order SO-T-1 before p2c: its id is not p2c's deterministic one
        existing = user.create("salesorders", {
            "ordernumber": "SO-T-1", "name": "Typed in Sales", "customerid_account@odata.bind": f"/accounts({account['accountid']})",
            "pricelevelid@odata.bind": f"/pricelevels({level['pricelevelid']})",
            "transactioncurrencyid@odata.bind": f"/transactioncurrencies({level['_transactioncurrencyid_value']})"})
    assert existing != deterministic_id("salesorders", "SO-T-1")
    write_seed(project.models / "seeds" / "sales_orders.csv", [
        {"number": "SO-T-1", "name": "Order 1", "customer": account["accountid"],
         "currency": level["_transactioncurrencyid_value"], "pricelevel": level["pricelevelid"]}])
    write_seed(project.models / "seeds" / "sales_order_lines.csv", [
        {"id": f"1-{line}", "number": "SO-T-1", "line": line, "product": product["productid"],
         "uom": product["_defaultuomid_value"], "quantity": line} for line in (1, 2)])
    first = json.loads(ok(cli, "run", "--profile", str(project.profile), "--json").stdout)
    assert first["targets"]["sales.salesorders"]["update"] == 1 and first["targets"]["sales.salesorders"]["insert"] == 0
    orders = [o for o in tenant.sales.rows("salesorders") if o["ordernumber"] == "SO-T-1"]
    assert [(o["salesorderid"], o["name"]) for o in orders] == [(existing, "Order 1")]  # updated, not created twice
    lines = [line for line in tenant.sales.rows("salesorderdetails") if line["_salesorderid_value"] == existing]
    assert sorted(line["sequencenumber"] for line in lines) == [1, 2]  # under the actual order, bound to its id
    assert not [line for line in tenant.sales.rows("salesorderdetails")
                if line["_salesorderid_value"] == deterministic_id("salesorders", "SO-T-1")]

    second = json.loads(ok(cli, "run", "--profile", str(project.profile), "--json").stdout)
    assert second["targets"] == {}


def test_a_sales_record_whose_id_is_not_a_guid_stops_the_plan_with_one_line(cli, project, tenant):
    flow = project.models / "flows" / "sales_accounts.sql"
    flow.write_text(flow.read_text().replace("{{ deterministic_id('accounts', 'a.accountnumber') }}",
                                             "'id-' || a.accountnumber"))
    project.seed("sales_accounts", [{"accountnumber": "SA-9", "name": "Nine", "telephone1": "1"}])
    ok(cli, "extract", "--profile", str(project.profile))
    ok(cli, "build", "--profile", str(project.profile))
    result = cli("plan", "--profile", str(project.profile))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {flow}: record {{\"accountnumber\":\"SA-9\"}}: accountid 'id-SA-9' is not a GUID "
        "(new Sales records take deterministic_id(...) of their natural key)"]
    assert accounts(tenant) == {}
