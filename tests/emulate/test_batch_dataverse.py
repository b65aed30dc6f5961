"""Dataverse `$batch` over HTTPS: change sets, Content-ID references, errors (protocols.md 1.6)."""

import re
import uuid

from tests.emulate.multipart import batch, change_set, read_batch, request_part

API = "/api/data/v9.2"


def _account_by_name(tenant, name: str) -> dict | None:
    return next((row for row in tenant.sales.rows("accounts") if row["name"] == name), None)


def test_change_set_creates_with_content_ids_and_references(sales, tenant):
    name, renamed = f"Batch {uuid.uuid4()}", f"Renamed {uuid.uuid4()}"
    currency = {"isocurrencycode": "XBT", "currencyname": f"Batch coin {uuid.uuid4()}", "currencysymbol": "B", "exchangerate": 1.5}
    headers, body = batch(change_set(
        request_part("POST", f"{API}/transactioncurrencies", currency, content_id="1"),
        request_part("POST", f"{tenant.sales_url}{API}/accounts", {"name": name, "transactioncurrencyid@odata.bind": "$1"}, content_id="2"),
        request_part("PATCH", "$2", {"name": renamed}, content_id="3"),
    ), request_part("GET", "accounts?$select=name&$filter=startswith(name,'Renamed')"))
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 200, response.text
    reply = read_batch(response)
    created, bound, patched, listed = reply.parts
    assert [p.content_id for p in reply.parts] == ["1", "2", "3", None]
    assert created.change_set and created.change_set == bound.change_set == patched.change_set and listed.change_set is None
    for part in (created, bound, patched):
        assert (part.status, part.reason) == (204, "No Content")
        assert part.headers["OData-EntityId"] == part.headers["Location"]
    assert re.fullmatch(rf"{tenant.sales_url}{API}/accounts\([0-9a-f-]{{36}}\)", bound.headers["OData-EntityId"])
    assert patched.headers["OData-EntityId"] == bound.headers["OData-EntityId"]
    currency_id = created.headers["OData-EntityId"].rsplit("(", 1)[1].rstrip(")")
    stored = _account_by_name(tenant, renamed)
    assert stored and stored["_transactioncurrencyid_value"] == currency_id
    assert stored["accountnumber"].startswith("ACC-")  # the numbering rule ran inside the change set
    assert listed.status == 200 and renamed in [row["name"] for row in listed.json()["value"]]


def test_a_failing_change_set_rolls_back_and_stops_the_batch(sales, tenant):
    name = f"Rolled back {uuid.uuid4()}"
    headers, body = batch(
        change_set(request_part("POST", f"{API}/accounts", {"name": name}, content_id="1"),
                   request_part("POST", f"{API}/accounts", {"name": "x" * 161}, content_id="2")),
        request_part("POST", f"{API}/accounts", {"name": f"Never {name}"}),
    )
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 400
    (failed,) = read_batch(response).parts  # one response for the whole change set; nothing after it ran
    assert (failed.status, failed.reason, failed.content_id) == (400, "Bad Request", "2")
    assert failed.json()["error"]["code"] == "0x80044331"
    assert failed.headers["Content-Type"] == "application/json; odata.metadata=minimal"
    assert _account_by_name(tenant, name) is None and _account_by_name(tenant, f"Never {name}") is None


def test_continue_on_error_answers_every_request(sales, tenant):
    name = f"Continued {uuid.uuid4()}"
    headers, body = batch(
        request_part("PATCH", f"{API}/accounts({uuid.uuid4()})", {"name": "nobody"}, headers={"If-Match": "*"}),
        request_part("POST", f"{API}/accounts", {"name": name}),
        quoted=False,
    )
    response = sales.post("$batch", content=body, headers={**headers, "Prefer": "odata.continue-on-error"})
    assert response.status_code == 200
    missing, created = read_batch(response).parts
    assert missing.status == 404 and missing.json()["error"]["code"] == "0x80040217"
    assert created.status == 204 and _account_by_name(tenant, name) is not None


def test_without_continue_on_error_the_batch_stops_at_the_first_failure(sales, tenant):
    name = f"After failure {uuid.uuid4()}"
    headers, body = batch(
        request_part("GET", "accounts?$select=name&$top=1"),
        request_part("DELETE", f"{API}/accounts({uuid.uuid4()})"),
        request_part("POST", f"{API}/accounts", {"name": name}),
    )
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 400
    assert [part.status for part in read_batch(response).parts] == [200, 404]
    assert _account_by_name(tenant, name) is None


def test_undeclared_content_id_reference_is_refused(sales, tenant):
    name = f"Unreferenced {uuid.uuid4()}"
    headers, body = batch(change_set(
        request_part("POST", f"{API}/accounts", {"name": name, "transactioncurrencyid@odata.bind": "$1"}, content_id="2"),
        request_part("POST", f"{API}/transactioncurrencies", {"currencyname": "late"}, content_id="1"),
    ))
    response = sales.post("$batch", content=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Content-ID Reference: '$1' does not exist in the batch context."
    assert _account_by_name(tenant, name) is None


def test_batch_limits_and_forbidden_parts(sales):
    too_many = batch(*(request_part("GET", "accounts?$top=1") for _ in range(1001)))
    get_in_change_set = batch(change_set(request_part("GET", f"{API}/accounts", content_id="1")))
    nested = batch(request_part("POST", f"{API}/$batch", {}))
    for headers, body in (too_many, get_in_change_set, nested):
        response = sales.post("$batch", content=body, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["message"]
    # 1,000 is allowed (cheap parts: each a 404 for an unknown entity set)
    exactly = batch(*(request_part("GET", f"nosuchset{n}") for n in range(1000)))
    response = sales.post("$batch", content=exactly[1], headers={**exactly[0], "Prefer": "odata.continue-on-error"})
    assert response.status_code == 200
    assert [part.status for part in read_batch(response).parts] == [404] * 1000


def test_batch_needs_a_token(tenant, http):
    headers, body = batch(request_part("GET", "accounts?$top=1"))
    response = http.post(f"{tenant.sales_url}{API}/$batch", content=body, headers=headers)
    assert response.status_code == 401 and "WWW-Authenticate" in response.headers
