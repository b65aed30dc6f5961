"""Page and count caps over HTTPS on a tenant just past them: Dataverse's 5,000-row `$count` and page
limits (protocols.md 1.2, 1.3) and F&O's default page of 10,000 rows (2.2)."""

import ssl
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from emulate.tenant import EmulatedTenant

ACCOUNTS_PER_SCALE = 200  # the generator's accounts per unit of scale
CAP = 5000
ANNOTATIONS = 'odata.include-annotations="Microsoft.Dynamics.CRM.*"'


def _client(tenant: EmulatedTenant, origin: str, root: str) -> httpx.Client:
    http = httpx.Client(verify=ssl.create_default_context(cafile=str(tenant.ca_file)), timeout=60)
    token = http.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
        "scope": f"{origin}/.default"}).json()["access_token"]
    http.close()
    return httpx.Client(base_url=f"{origin}{root}", verify=ssl.create_default_context(cafile=str(tenant.ca_file)), timeout=60,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"})


@pytest.fixture(scope="module")
def at_cap(tmp_path_factory):
    """A tenant whose accounts number exactly 5,000, served with F&O's default page size."""
    with EmulatedTenant.start(tmp_path_factory.mktemp("caps"), scale=CAP // ACCOUNTS_PER_SCALE) as tenant:
        with _client(tenant, tenant.sales_url, "/api/data/v9.2/") as sales, _client(tenant, tenant.fno_url, "/data/") as fno:
            yield tenant, sales, fno


def _counted(sales: httpx.Client, prefer: str) -> dict:
    response = sales.get("accounts", params={"$count": "true", "$select": "name"}, headers={"Prefer": prefer})
    assert response.status_code == 200, response.text
    return response.json()


def test_count_and_page_caps_at_and_past_5000(at_cap):
    tenant, sales, _ = at_cap
    assert len(tenant.sales.rows("accounts")) == CAP
    exact = _counted(sales, ANNOTATIONS)
    assert exact["@odata.count"] == CAP and exact["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is False
    assert len(exact["value"]) == CAP and "@odata.nextLink" not in exact
    assert sales.get("accounts/$count").text == str(CAP)

    made = sales.post("accounts/Microsoft.Dynamics.CRM.CreateMultiple", json={"Targets": [
        {"@odata.type": "Microsoft.Dynamics.CRM.account", "name": f"Past the cap {i}"} for i in range(3)]})
    assert made.status_code == 200 and len(made.json()["Ids"]) == 3

    past = _counted(sales, f"odata.maxpagesize=9000,{ANNOTATIONS}")  # larger than 5,000: the cap holds
    assert past["@odata.count"] == CAP and past["@Microsoft.Dynamics.CRM.totalrecordcount"] == CAP
    assert past["@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"] is True
    assert len(past["value"]) == CAP and "@odata.nextLink" in past
    rest = sales.get(past["@odata.nextLink"], headers={"Prefer": "odata.maxpagesize=9000"}).json()
    assert len(rest["value"]) == 3 and "@odata.nextLink" not in rest
    assert {row["accountid"] for row in past["value"]}.isdisjoint(row["accountid"] for row in rest["value"])
    default = sales.get("accounts", params={"$select": "name"}).json()  # no preference: pages of 5,000 too
    assert len(default["value"]) == CAP and "@odata.nextLink" in default
    assert sales.get("accounts/$count").text == str(CAP)  # the bare count is capped as well
    small = sales.get("accounts/$count", params={"$filter": "startswith(name,'Past the cap')"})
    assert small.status_code == 200 and small.text == "3"


def test_fno_default_page_holds_thousands_of_rows(at_cap):
    """With the default page size (10,000) a set of a few thousand rows comes in one page."""
    tenant, _, fno = at_cap
    lines = len(tenant.fno.rows("CDSSalesOrderLines"))
    assert 3 < lines < 10_000
    page = fno.get("CDSSalesOrderLines", params={"cross-company": "true", "$select": "dataAreaId"}).json()
    assert len(page["value"]) == lines and "@odata.nextLink" not in page


def test_fno_default_page_is_10000_rows(tmp_path):
    """A tenant with more than 10,000 order lines pages them 10,000 at a time (about 8 s, most of it generating)."""
    with EmulatedTenant.start(tmp_path / "big", scale=105) as tenant, _client(tenant, tenant.fno_url, "/data/") as fno:
        lines = len(tenant.fno.rows("CDSSalesOrderLines"))
        assert lines > 10_000
        first = fno.get("CDSSalesOrderLines", params={"cross-company": "true", "$select": "dataAreaId,SalesOrderNumber"}).json()
        assert len(first["value"]) == 10_000
        assert dict(parse_qsl(urlsplit(first["@odata.nextLink"]).query))["$skip"] == "10000"
        second = fno.get(first["@odata.nextLink"]).json()
        assert len(second["value"]) == lines - 10_000 and "@odata.nextLink" not in second
