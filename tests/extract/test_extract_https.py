"""The extractor against the emulated services over real HTTPS, msal included, across many pages."""

import math

import duckdb
import pytest

from extract.auth import MsalAuth, build_msal_app
from extract.http import make_client
from extract.registry import load_project_registry
from extract.profile import PROJECT_DIR
from extract.run import extract_entity
from emulate.tenant import EmulatedTenant

ENTITIES = load_project_registry(PROJECT_DIR / "models")


@pytest.fixture
def small_pages_tenant(tmp_path):
    with EmulatedTenant.start(tmp_path / "tenant", seed=3, fno_page_size=3) as tenant:
        yield tenant


def client_for(tenant, url):
    app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
    return make_client(url, MsalAuth(app, url), ca_file=tenant.ca_file)


def test_sales_accounts_across_many_pages(small_pages_tenant):
    tenant = small_pages_tenant
    stored = {a["accountid"]: a for a in tenant.sales.rows("accounts")}
    with duckdb.connect() as con, client_for(tenant, tenant.sales_url) as client:
        summary = extract_entity(con, client, ENTITIES[("sales", "accounts")], run_id=1, companies=[], page_size=37)
        landed = dict(con.execute("select accountid, accountnumber from raw_sales.accounts").fetchall())
    assert summary.requests == math.ceil(len(stored) / 37) > 1
    assert summary.received == summary.new == len(stored)
    assert landed == {k: a["accountnumber"] for k, a in stored.items()}


def test_fno_customers_across_server_pages_only_for_listed_companies(small_pages_tenant):
    tenant = small_pages_tenant
    usmf = sorted(c["CustomerAccount"] for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf")
    with duckdb.connect() as con, client_for(tenant, tenant.fno_url) as client:
        summary = extract_entity(con, client, ENTITIES[("fno", "CustomersV2")], run_id=1, companies=["usmf"])
        landed = [r[0] for r in con.execute('select "CustomerAccount" from raw_fno."CustomersV2" order by 1').fetchall()]
    assert landed == usmf
    assert summary.requests == math.ceil(len(usmf) / 3) > 1
