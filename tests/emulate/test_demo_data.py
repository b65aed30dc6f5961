"""The generated pair of tenants: size, determinism, consistency and the edge cases the flows must meet."""

import time
from decimal import Decimal

import pytest

from emulate.catalog import FNO_ENTITY_SETS, SALES_ENTITY_SETS
from emulate.tenant import EmulatedTenant


def _snapshot(tenant) -> dict:
    return {**{name: tenant.sales.rows(name) for name in SALES_ENTITY_SETS}, **{name: tenant.fno.rows(name) for name in FNO_ENTITY_SETS}}


def test_scale_one_is_about_a_thousand_records_over_every_entity(tenant):
    counts = {name: len(rows) for name, rows in _snapshot(tenant).items()}
    assert 500 <= sum(counts.values()) <= 1500
    empty = {name for name, count in counts.items() if count == 0}
    # Nothing is synced yet: no invoices in Sales, no contact persons and no externally maintained invoices in F&O.
    assert empty <= {"invoices", "invoicedetails", "CDSContactPersons", "ExternallyMaintainedCustomerSalesInvoiceHeaders",
                     "ExternallyMaintainedCustomerSalesInvoiceLines"}
    assert counts["accounts"] == 200 and counts["contacts"] == 150 and counts["salesorders"] == 40


def test_same_seed_same_pair_other_seed_other_pair(tmp_path):
    def snapshot(directory, seed):
        with EmulatedTenant.start(directory, seed=seed) as running:
            return _snapshot(running)

    first, again, other = snapshot(tmp_path / "a", 42), snapshot(tmp_path / "b", 42), snapshot(tmp_path / "c", 7)
    assert first == again
    for name in ("contacts", "quotes", "salesorderdetails", "products", "CDSSalesOrderHeaders", "CDSSalesOrderLines"):
        assert first[name] != other[name], name


def test_every_lookup_resolves_and_fno_documents_name_existing_records(tenant):
    data = _snapshot(tenant)
    ids = {name: {row[SALES_ENTITY_SETS[name].key[0]] for row in data[name]} for name in SALES_ENTITY_SETS}
    for name, entity in SALES_ENTITY_SETS.items():
        targets: dict[str, set] = {}
        for column in entity.lookups.values():
            targets.setdefault(column.name, set()).update(ids[column.lookup.target])
        for row in data[name]:
            for column, known in targets.items():
                assert row[column] is None or row[column] in known, (name, column)
    customers = {(c["dataAreaId"], c["CustomerAccount"]) for c in data["CustomersV2"]}
    products = {(p["dataAreaId"], p["ProductNumber"]) for p in data["SellableReleasedProducts"]}
    orders = {(o["dataAreaId"], o["SalesOrderNumber"]) for o in data["CDSSalesOrderHeaders"]}
    assert all((o["dataAreaId"], o["OrderingCustomerAccountNumber"]) in customers for o in data["CDSSalesOrderHeaders"])
    assert all((q["dataAreaId"], q["RequestingCustomerAccountNumber"]) in customers for q in data["CDSSalesQuotationHeaders"])
    assert all((line["dataAreaId"], line["SalesOrderNumber"]) in orders for line in data["CDSSalesOrderLines"])
    assert all((line["dataAreaId"], line["ProductNumber"]) in products for line in data["CDSSalesOrderLines"])
    fno_numbers = {number for _, number in products}
    assert {p["productnumber"] for p in data["products"] if p["msdynce_ismaintainedexternally"]} < fno_numbers


def test_derived_flags_agree_with_the_rules(tenant):
    data = _snapshot(tenant)
    external = {p["productid"]: p["msdynce_ismaintainedexternally"] for p in data["products"]}
    for header_set, line_set, parent, key in (("quotes", "quotedetails", "_quoteid_value", "quoteid"),
                                             ("salesorders", "salesorderdetails", "_salesorderid_value", "salesorderid")):
        for header in data[header_set]:
            lines = [line for line in data[line_set] if line[parent] == header[key]]
            expected = all(not line["isproductoverridden"] and external.get(line["_productid_value"], False) for line in lines)
            assert header["msdynce_hasexternallymaintainedproductsonly"] is expected
    customer_contacts = {doc["_customerid_value"] for name in ("quotes", "salesorders") for doc in data[name]}
    for contact in data["contacts"]:
        if contact["contactid"] in customer_contacts:
            assert contact["msdynce_isactivecustomer"] is True
        assert contact["msdynce_iscompanyanaccount"] is (contact["_parentcustomerid_value"] is not None)


def test_the_edge_cases_the_flows_must_handle(tenant):
    data = _snapshot(tenant)
    assert any(a["address1_country"] is None for a in data["accounts"]) and any(a["statecode"] == 1 for a in data["accounts"])
    assert any(q["statecode"] == 0 for q in data["quotes"]) and any(q["statecode"] == 1 for q in data["quotes"])
    assert any(line["isproductoverridden"] and line["_productid_value"] is None for line in data["salesorderdetails"])
    assert any(line["quantity"] == 3 and line["manualdiscountamount"] == 10.0 for line in data["salesorderdetails"])
    assert any(line["OrderedSalesQuantity"] == 3 and line["LineDiscountAmount"] == 3.33 and line["FixedPriceCharges"] == -0.01
               for line in data["CDSSalesOrderLines"])
    assert any(o["SalesOrderProcessingStatus"] == "Active" for o in data["CDSSalesOrderHeaders"])
    assert any(c["IsExternallyMaintained"] == "No" for c in data["CustomersV2"])
    variants = [p["ProductNumber"] for p in data["SellableReleasedProducts"] if p["ProductNumber"].startswith("V")]
    assert len(variants) >= 3 and len({v.rsplit("-", 1)[0] for v in variants}) < len(variants)
    assert {o["msdynce_processingstatus"] for o in data["salesorders"]} == {647390011, 647390000}


@pytest.mark.slow
def test_scale_1000_builds_about_a_million_records_within_a_minute(tmp_path):
    started = time.perf_counter()
    with EmulatedTenant.start(tmp_path / "big", scale=1000) as running:
        elapsed = time.perf_counter() - started
        with running.sales.store.reading() as cur:
            total = sum(cur.execute(f'SELECT count(*) FROM "{entity.table}"').fetchone()[0]
                        for entity in (*SALES_ENTITY_SETS.values(), *FNO_ENTITY_SETS.values()))
    print(f"\nscale 1000: {total} records in {elapsed:.1f} s")
    assert total >= Decimal(800_000) and elapsed < 60
