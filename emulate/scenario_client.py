"""The Sales app as scenarios use it: a signed-in client of the tenant's own Web API over HTTPS.

Scenario users change Sales through the same requests a browser session would send, so
every platform and P2C rule, ETag and change-tracking entry applies to their edits.
"""

import re
import ssl
from types import TracebackType

import httpx

_ID = re.compile(r"\(([0-9a-fA-F-]{36})\)$")


class SalesUser:
    """`with SalesUser(tenant) as user: user.create("accounts", {...})`."""

    def __init__(self, tenant) -> None:
        context = ssl.create_default_context(cafile=str(tenant.ca_file))
        with httpx.Client(verify=context, timeout=30) as client:
            token = client.post(f"{tenant.authority_url}/oauth2/v2.0/token", data={
                "grant_type": "client_credentials", "client_id": tenant.client_id, "client_secret": tenant.client_secret,
                "scope": f"{tenant.sales_url}/.default"})
            token.raise_for_status()
        self._client = httpx.Client(base_url=f"{tenant.sales_url}/api/data/v9.2/", verify=context, timeout=30, headers={
            "Authorization": f"Bearer {token.json()['access_token']}", "Accept": "application/json",
            "OData-MaxVersion": "4.0", "OData-Version": "4.0"})

    def create(self, entity_set: str, body: dict) -> str:
        """POST a record; returns its id."""
        response = self._checked(self._client.post(entity_set, json=body))
        return _ID.search(response.headers["OData-EntityId"]).group(1)

    def update(self, entity_set: str, row_id: str, body: dict) -> None:
        self._checked(self._client.patch(f"{entity_set}({row_id})", json=body, headers={"If-Match": "*"}))

    def delete(self, entity_set: str, row_id: str) -> None:
        self._checked(self._client.delete(f"{entity_set}({row_id})"))

    @staticmethod
    def _checked(response: httpx.Response) -> httpx.Response:
        if response.status_code >= 400:
            raise RuntimeError(f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}")
        return response

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> "SalesUser":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
