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
