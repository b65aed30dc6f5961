"""Scenario steps act like users on both sides; `business_day` gives every flow work, deterministically."""

import re

from emulate.scenarios import activate_orders, business_day, create_accounts, create_orders
from emulate.scenarios_fno import confirm_fno_orders, create_fno_orders, deliver_fno_orders, invoice_fno_orders
from emulate.tenant import EmulatedTenant


def test_steps_create_activate_and_process_orders(tenant):
    numbers = create_accounts(tenant, 2, seed=3)
    assert len(numbers) == 2 and all(re.fullmatch(r"ACC-\d{5}-[A-Z]{6}", n) for n in numbers)
    orders = create_orders(tenant, 3, seed=3)
    stored = {o["salesorderid"]: o for o in tenant.sales.rows("salesorders")}
    assert all(stored[o]["msdynce_processingstatus"] == 647390011 for o in orders)
    activated = activate_orders(tenant, 50, seed=3)
    assert set(orders) <= set(activated)
    lines = [line for line in tenant.sales.rows("salesorderdetails") if line["_salesorderid_value"] in orders]
    assert lines and all(line["msdynce_orderissubmitted"] for line in lines)
    created = create_fno_orders(tenant, 2, seed=3)
    assert created == sorted(created) and all(n.startswith("SO-") for n in created)
    confirmed = confirm_fno_orders(tenant, 100, seed=3)
    assert set(created) <= set(confirmed)
    deliver_fno_orders(tenant, 100, seed=3)
    delivered = [o["SalesOrderNumber"] for o in tenant.fno.rows("CDSSalesOrderHeaders") if o["SalesOrderProcessingStatus"] == "Delivered"]
    assert set(created) <= set(delivered)
    invoices = invoice_fno_orders(tenant, 1000, seed=3)
    assert len(invoices) == len(delivered) and len(set(invoices)) == len(invoices)
    statuses = {o["SalesOrderNumber"]: o["SalesOrderProcessingStatus"] for o in tenant.fno.rows("CDSSalesOrderHeaders")}
    assert {statuses[n] for n in delivered} == {"Invoiced"}


def test_business_day_touches_both_sides_the_same_way_for_a_seed(tmp_path):
    def day(directory):
        with EmulatedTenant.start(directory) as running:
            before = running.fno.rows("CDSSalesOrderHeaders")
            summary = business_day(running, seed=5)
            return summary, before, running.fno.rows("CDSSalesOrderHeaders"), running.sales.rows("accounts")

    first, before, after, accounts = day(tmp_path / "a")
    again = day(tmp_path / "b")[0]
    by_number = [name for name in first if name not in ("created_quotes", "created_orders", "activated_quotes", "activated_orders",
                                                        "deleted_quotes")]  # record ids are new GUIDs in every tenant
    assert {name: first[name] for name in by_number} == {name: again[name] for name in by_number}
    assert all(first[name] for name in ("created_accounts", "created_contacts", "created_quotes", "created_orders",
                                        "edited_accounts", "created_fno_orders", "confirmed_fno_orders", "invoiced_fno_orders"))
    assert len(after) == len(before) + len(first["created_fno_orders"])
    assert {a["accountnumber"] for a in accounts} >= set(first["created_accounts"])
