"""Fixtures: a running emulated tenant and HTTPS clients that trust its CA."""

import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from emulate.tenant import EmulatedTenant

FNO_PAGE_SIZE = 3


def _client(tenant: EmulatedTenant) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(cafile=str(tenant.ca_file)), timeout=10)


def _token(tenant: EmulatedTenant, client: httpx.Client, resource: str) -> str:
    response = client.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": tenant.client_id,
        "client_secret": tenant.client_secret, "scope": f"{resource}/.default"})
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture(scope="module")
def tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmulatedTenant]:
    with EmulatedTenant.start(tmp_path_factory.mktemp("tenant"), fno_page_size=FNO_PAGE_SIZE) as running:
        yield running


@pytest.fixture(scope="module")
def http(tenant: EmulatedTenant) -> Iterator[httpx.Client]:
    with _client(tenant) as client:
        yield client


@pytest.fixture(scope="module")
def sales(tenant: EmulatedTenant, http: httpx.Client) -> Iterator[httpx.Client]:
    """A client for the Dataverse Web API root with a valid token."""
    token = _token(tenant, http, tenant.sales_url)
    with httpx.Client(base_url=f"{tenant.sales_url}/api/data/v9.2/", verify=ssl.create_default_context(cafile=str(tenant.ca_file)),
                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                               "OData-MaxVersion": "4.0", "OData-Version": "4.0"}) as client:
        yield client


@pytest.fixture(scope="module")
def fno(tenant: EmulatedTenant, http: httpx.Client) -> Iterator[httpx.Client]:
    """A client for the F&O OData root with a valid token."""
    token = _token(tenant, http, tenant.fno_url)
    with httpx.Client(base_url=f"{tenant.fno_url}/data/", verify=ssl.create_default_context(cafile=str(tenant.ca_file)),
                      headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}) as client:
        yield client


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def client_for() -> Callable[[EmulatedTenant], httpx.Client]:
    """Build an HTTPS client trusting a tenant's CA."""
    return _client


@pytest.fixture
def token_for() -> Callable[[EmulatedTenant, httpx.Client, str], str]:
    """Fetch a client-credentials token for a resource origin."""
    return _token
