"""msal client-credential tokens as an ``httpx.Auth``: the only place tokens are handled."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import httpx
import msal
import requests

from extract.errors import AuthError


def build_msal_app(authority: str, client_id: str, client_secret: str, ca_file: Path | None) -> msal.ConfidentialClientApplication:
    """A confidential client for ``authority``; trusts ``ca_file`` when given.

    msal talks through ``requests``; the session ignores REQUESTS_CA_BUNDLE and proxies
    from the environment so the CA we were given is the one that counts.
    """
    session = requests.Session()
    if ca_file is not None:
        session.trust_env = False
        session.verify = str(ca_file)
    try:
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=client_secret,
            authority=authority,
            instance_discovery=False,
            http_client=session,
        )
    except requests.RequestException as exc:
        raise AuthError(f"cannot reach the token authority at {authority} ({_reason(exc)})") from exc
    except ValueError as exc:
        raise AuthError(f"token authority {authority} is not usable: {exc}") from exc


class MsalAuth(httpx.Auth):
    """Bearer tokens for one resource; on a 401 the token is dropped and fetched once more.

    A second 401 is handed back as the answer: ``extract.http.send`` turns it into one
    ``AuthError`` line, so an expired token costs one refresh and a refused app a clear stop.
    """

    def __init__(self, app: msal.ConfidentialClientApplication, resource: str) -> None:
        self.app = app
        self.resource = resource.rstrip("/")
        self.origin = _origin(httpx.URL(self.resource))

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) != self.origin:  # a link naming another host never gets this service's token
            yield request
            return
        request.headers["Authorization"] = f"Bearer {self.token()}"
        response = yield request
        if response.status_code == 401:
            self.app.remove_tokens_for_client()
            request.headers["Authorization"] = f"Bearer {self.token()}"
            yield request

    def token(self) -> str:
        try:
            result = self.app.acquire_token_for_client(scopes=[f"{self.resource}/.default"])
        except requests.RequestException as exc:
            raise AuthError(f"cannot reach the token authority for {self.resource} ({_reason(exc)})") from exc
        if "access_token" in result:
            return result["access_token"]
        # error_description's first line carries the AADSTS code and reason, never the secret.
        description = str(result.get("error_description", "")).splitlines()[0:1]
        detail = f": {description[0]}" if description else ""
        raise AuthError(f"token authority refused a token for {self.resource}: {result.get('error', 'unknown error')}{detail}")


def _reason(exc: Exception) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "certificate verify failed", "timed out"):
        if marker in text:
            return marker.lower()
    return type(exc).__name__


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port
