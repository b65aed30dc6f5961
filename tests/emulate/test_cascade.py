"""Deleting a quote, order or invoice over HTTPS takes its lines with it, and the delta reports them as deleted."""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest

TRACK = {"Prefer": "odata.track-changes"}
DOCUMENTS = [("quotes", "quotedetails", "quoteid"), ("salesorders", "salesorderdetails", "salesorderid"),
             ("invoices", "invoicedetails", "invoiceid")]


def _id(response) -> str:
    assert response.status_code == 204, response.text
    return re.search(r"\(([0-9a-f-]{36})\)$", response.headers["OData-EntityId"]).group(1)


def _delta_link(sales, entity_set: str) -> str:
    page = sales.get(entity_set, params={"$select": "quantity"}, headers=TRACK).json()
    while "@odata.nextLink" in page:
        page = sales.get(page["@odata.nextLink"], headers=TRACK).json()
    return page["@odata.deltaLink"]


@pytest.mark.parametrize(("header_set", "line_set", "parent"), DOCUMENTS)
def test_deleting_a_header_deletes_its_lines_and_the_delta_says_so(sales, tenant, header_set, line_set, parent):
    product = next(p["productid"] for p in tenant.sales.rows("products") if p["msdynce_ismaintainedexternally"])
    header = _id(sales.post(header_set, json={"name": "Cascade test"}))
    lines = [_id(sales.post(line_set, json={f"{parent}@odata.bind": f"/{header_set}({header})", "quantity": n,
                                            "productid@odata.bind": f"/products({product})"})) for n in (1, 2)]
    other = _id(sales.post(header_set, json={"name": "Cascade bystander"}))
    kept = _id(sales.post(line_set, json={f"{parent}@odata.bind": f"/{header_set}({other})", "quantity": 3,
                                          "productid@odata.bind": f"/products({product})"}))
    delta_link = _delta_link(sales, line_set)

    assert sales.delete(f"{header_set}({header})").status_code == 204

    remaining = {row[f"{line_set[:-1]}id"] for row in tenant.sales.rows(line_set)}
    assert not remaining & set(lines) and kept in remaining
    assert sales.get(f"{line_set}({lines[0]})").status_code == 404
    delta = sales.get(delta_link).json()["value"]
    assert sorted(row["id"] for row in delta if row.get("reason") == "deleted") == sorted(lines)
    assert all(row["@odata.context"].endswith(f"$metadata#{line_set}/$deletedEntity") for row in delta)
    token = dict(parse_qsl(urlsplit(delta_link).query))["$deltatoken"]
    assert sales.get(f"{line_set}/$count?$deltatoken={token}").text == "2"
