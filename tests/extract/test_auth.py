"""MsalAuth: bearer tokens from msal, one refresh on a 401, and clear errors."""

import httpx
import pytest

from extract.auth import MsalAuth
from extract.errors import AuthError


class FakeMsalApp:
    """Stands in for msal.ConfidentialClientApplication: hands out numbered tokens."""

    def __init__(self, result=None):
        self.issued = 0
        self.cleared = 0
        self.result = result

    def acquire_token_for_client(self, scopes):
        self.scopes = scopes
        if self.result is not None:
            return self.result
        self.issued += 1
        return {"access_token": f"token-{self.issued}"}

    def remove_tokens_for_client(self):
        self.cleared += 1


def test_bearer_token_for_the_resource_scope():
    seen = []
    app = FakeMsalApp()
    client = httpx.Client(auth=MsalAuth(app, "https://org.example/"), transport=httpx.MockTransport(
        lambda r: seen.append(r.headers["Authorization"]) or httpx.Response(200)))
    client.get("https://org.example/api")
    assert seen == ["Bearer token-1"] and app.scopes == ["https://org.example/.default"]


def test_a_401_drops_the_cached_token_and_retries_once():
    seen = []
    app = FakeMsalApp()

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(401)

    client = httpx.Client(auth=MsalAuth(app, "https://org.example"), transport=httpx.MockTransport(handler))
    assert client.get("https://org.example/api").status_code == 401
    assert seen == ["Bearer token-1", "Bearer token-2"] and app.cleared == 1


def test_a_refused_token_is_one_clear_line_without_the_secret():
    app = FakeMsalApp({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided.\nTrace ID: x"})
    client = httpx.Client(auth=MsalAuth(app, "https://org.example"), transport=httpx.MockTransport(lambda r: httpx.Response(200)))
    with pytest.raises(AuthError) as caught:
        client.get("https://org.example/api")
    assert str(caught.value) == ("token authority refused a token for https://org.example: "
                                 "invalid_client: AADSTS7000215: Invalid client secret provided.")


def test_an_expired_token_over_https_is_refreshed_once_and_the_read_goes_on(tmp_path):
    """The service (not msal) decides the cached token has expired: one fresh token, and the extract completes.
    (A token refused twice ends as one line: test_retry.py::test_a_token_the_service_refuses_twice_ends_in_one_auth_line.)"""
    import time

    import duckdb

    from emulate.tenant import EmulatedTenant
    from extract.auth import build_msal_app
    from extract.http import make_client, send
    from extract.profile import PROJECT_DIR
    from extract.registry import load_project_registry
    from extract.run import extract_entity

    accounts = load_project_registry(PROJECT_DIR / "models")[("sales", "accounts")]
    with EmulatedTenant.start(tmp_path / "tenant", seed=2, token_lifetime_s=1) as tenant:
        app = build_msal_app(tenant.authority_url, tenant.client_id, tenant.client_secret, tenant.ca_file)
        auth = MsalAuth(app, tenant.sales_url)
        tokens, issued = [], auth.token
        auth.token = lambda: tokens.append(issued()) or tokens[-1]
        with make_client(tenant.sales_url, auth, ca_file=tenant.ca_file) as client, duckdb.connect() as con:
            send(client, "GET", "/api/data/v9.2/WhoAmI", what="whoami")
            for entry in app.token_cache.search(app.token_cache.CredentialType.ACCESS_TOKEN):
                entry["expires_on"] = str(int(time.time()) + 3600)  # msal keeps serving it; the service will not
            time.sleep(2.1)
            summary = extract_entity(con, client, accounts, run_id=1, companies=[])
            assert summary.received == len(tenant.sales.rows("accounts")) and summary.requests == 1
    first, stale, fresh = tokens[:3]
    assert first == stale != fresh  # the cached token was sent, refused, dropped, and replaced once
    assert client.stats.requests == 2 and client.stats.retries == 0  # the refresh happens inside one send


def test_a_link_to_another_host_never_carries_the_services_token():
    """A nextLink naming another origin is requested without the bearer token (it is not the service's)."""
    class App:
        def acquire_token_for_client(self, scopes):
            return {"access_token": "secret-token"}

    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen[str(request.url)] = request.headers.get("Authorization")
        return httpx.Response(200, json={})

    with httpx.Client(transport=httpx.MockTransport(handler), auth=MsalAuth(App(), "https://org.crm.dynamics.com")) as client:
        client.get("https://org.crm.dynamics.com/api/data/v9.2/accounts")
        client.get("https://elsewhere.example/api/data/v9.2/accounts?$skiptoken=1")
        client.get("https://org.crm.dynamics.com:8443/api/data/v9.2/accounts")
    assert seen == {"https://org.crm.dynamics.com/api/data/v9.2/accounts": "Bearer secret-token",
                    "https://elsewhere.example/api/data/v9.2/accounts?$skiptoken=1": None,
                    "https://org.crm.dynamics.com:8443/api/data/v9.2/accounts": None}
