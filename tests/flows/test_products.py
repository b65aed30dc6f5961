"""Products end to end: F&O sellable released products → Sales products and their price list items.

Each F&O product (each variant its own) is one Sales product with the mapped fields, created
with its deterministic id, and one item on the first active price list of its currency
(alphabetical) at the F&O sales price. The emulated Sales carries the P2C solution, whose
plug-in adds that item when the product is written (decisions.md 15), so p2c plans items
for existing products only ("create": false) and the test checks the outcome either way.
"""

from decimal import Decimal

from audit import exit_codes
from emulate.scenarios_fno import edit_fno_products
from transform.ids import deterministic_id

PRODUCT_TYPES = {"Item": 1, "Service": 3}  # models/seeds/product_types.csv


def by_number(tenant) -> dict[str, dict]:
    return {p["productnumber"]: p for p in tenant.sales.rows("products")}


def first_price_list(tenant, currency_id: str) -> dict:
    """The documented rule, independently of the models: first active list of the currency, by name."""
    lists = [p for p in tenant.sales.rows("pricelevels") if p["_transactioncurrencyid_value"] == currency_id and p["statecode"] == 0]
    return min(lists, key=lambda p: (p["name"].lower(), p["name"]))


def assert_synced(tenant, released: dict[str, dict], sales_before: dict[str, dict]) -> None:
    products = by_number(tenant)
    units = {u["uomid"]: u["name"] for u in tenant.sales.rows("uoms")}
    schedules = {s["uomscheduleid"]: s["name"] for s in tenant.sales.rows("uomschedules")}
    currencies = {c["transactioncurrencyid"]: c["isocurrencycode"] for c in tenant.sales.rows("transactioncurrencies")}
    items = tenant.sales.rows("productpricelevels")
    for number, fno in released.items():
        product = products[number]
        if number not in sales_before:
            assert product["productid"] == deterministic_id("products", number)
        assert {"name": product["name"], "description": product["description"],
                "producttypecode": product["producttypecode"], "unit": units[product["_defaultuomid_value"]],
                "unit group": schedules[product["_defaultuomscheduleid_value"]],
                "currency": currencies[product["_transactioncurrencyid_value"]],
                "price": Decimal(str(product["price"])), "currentcost": Decimal(str(product["currentcost"])),
                "external": product["msdynce_ismaintainedexternally"]} == {
            "name": fno["ProductName"], "description": fno["ProductDescription"] or None,
            "producttypecode": PRODUCT_TYPES[fno["ProductType"]], "unit": fno["SalesUnitSymbol"], "unit group": "Default unit",
            "currency": fno["CurrencyCode"], "price": Decimal(str(fno["SalesPrice"])),
            "currentcost": Decimal(str(fno["UnitCost"])), "external": True}
        listed = [i for i in items if i["_productid_value"] == product["productid"]]
        assert len(listed) == 1, (number, listed)  # exactly one item: never a duplicate of the plug-in's
        price_list = first_price_list(tenant, product["_transactioncurrencyid_value"])
        assert (listed[0]["_pricelevelid_value"], Decimal(str(listed[0]["amount"])), listed[0]["_uomid_value"]) == (
            price_list["pricelevelid"], Decimal(str(fno["SalesPrice"])), product["_defaultuomid_value"])


def test_released_products_become_sales_products_on_the_first_price_list(flow_run, tenant):
    run = flow_run("products")
    released = {p["ProductNumber"]: p for p in tenant.fno.rows("SellableReleasedProducts") if p["dataAreaId"] == "usmf"}
    sales_before = by_number(tenant)
    new = set(released) - set(sales_before)
    sales_only = {n: p for n, p in sales_before.items() if n not in released}
    variants = {n for n in released if n.startswith("V")}
    assert new and sales_only and len(variants) >= 3

    first = run()
    assert first["targets"]["sales.products"] == {"insert": len(new), "update": 0, "conflict": 0, "failed": 0}
    assert "sales.productpricelevels" not in first["targets"]  # items of new products come from the P2C plug-in
    assert set(by_number(tenant)) == set(released) | set(sales_only)  # each variant its own product, nothing else
    assert_synced(tenant, released, sales_before)
    assert {n: p for n, p in by_number(tenant).items() if n in sales_only} == sales_only  # Sales' own products untouched
    assert run.query("select count(*) from models.products_from_released_products")[0][0] == len(released)

    second = run()
    assert second["targets"] == {}
    assert run.writes(second) == 0

    # a product manager changes prices in F&O: exactly those products and their price list items follow
    changed = edit_fno_products(tenant, 3, seed=5)
    released = {p["ProductNumber"]: p for p in tenant.fno.rows("SellableReleasedProducts") if p["dataAreaId"] == "usmf"}
    third = run()
    assert third["targets"]["sales.products"] == {"insert": 0, "update": len(changed), "conflict": 0, "failed": 0}
    # planned from the extract's stale amounts; the plug-in has already set the same amount by then
    assert third["targets"]["sales.productpricelevels"] == {"insert": 0, "update": len(changed), "conflict": 0, "failed": 0}
    planned = run.query("select key->>'productnumber', changes from p2c_meta.plan where plan_id = ? and entity = 'products'",
                        [third["plan"]["plan_id"]])
    assert {number for number, _ in planned} == set(changed)
    assert all('"price"' in changes for _, changes in planned)
    assert_synced(tenant, released, sales_before)


def test_a_unit_missing_from_the_unit_group_blocks_the_products_flow(flow_run, tenant):
    """decisions.md 13: p2c never creates units; a product whose unit has no unit group fails the coverage check."""
    run = flow_run("products")
    seed = run.models / "seeds" / "unit_groups.csv"
    seed.write_text("".join(line for line in seed.read_text(encoding="utf-8").splitlines(keepends=True)
                            if not line.startswith("hr,")), encoding="utf-8")
    services = {p["ProductNumber"] for p in tenant.fno.rows("SellableReleasedProducts") if p["SalesUnitSymbol"] == "hr"}
    assert services
    before = tenant.sales.rows("products")

    output = run(exit_code=exit_codes.BLOCKED)["stderr"]  # checks failed: nothing of the blocked part pushed
    assert len(output.strip().splitlines()) == 1  # one clear line: file, check and the unmapped value
    assert "products_from_released_products.sql: check value_map_coverage(unit_groups: n.unit_name) failed" in output
    assert "source_value='hr'" in output
    assert tenant.sales.rows("products") == before  # nothing written
    [(run_id,)] = run.query("select max(run_id) from p2c_meta.runs")
    failed = dict(run.query("select \"check\", sample from p2c_meta.check_results where run_id = ? and model = ? "
                            "and status = 'fail'", [run_id, "products_from_released_products"]))
    assert '"hr"' in failed["value_map_coverage(unit_groups: n.unit_name)"]
    assert run.query("select status from p2c_meta.model_builds where run_id = ? and model = ?",
                     [run_id, "products_from_released_products"]) == [("check_failed",)]
