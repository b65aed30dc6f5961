"""The HTTP clients p2c talks to Sales and F&O through, and their error translation."""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import httpx

from extract.errors import ServiceError

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


def make_client(
    base_url: str,
    auth: httpx.Auth,
    *,
    ca_file: Path | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
) -> httpx.Client:
    """An OData client rooted at ``base_url``; trusts ``ca_file`` when given, never skips verification."""
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    return httpx.Client(
        base_url=base_url,
        auth=auth,
        headers=ODATA_HEADERS,
        verify=verify,
        transport=transport,
        timeout=timeout,
        trust_env=ca_file is None,
    )


def send(client: httpx.Client, method: str, url: str, *, what: str, **kwargs) -> httpx.Response:
    """Send one request; connection failures and error statuses become ``ServiceError``."""
    try:
        response = client.request(method, url, **kwargs)
    except httpx.ConnectError as exc:
        raise ServiceError(f"{what}: cannot reach {client.base_url} ({_connect_reason(exc)})") from exc
    except httpx.TimeoutException as exc:
        raise ServiceError(f"{what}: {client.base_url} did not answer in time") from exc
    except httpx.TransportError as exc:
        raise ServiceError(f"{what}: connection to {client.base_url} failed ({type(exc).__name__})") from exc
    if response.status_code >= 400:
        code, message = error_detail(response)
        raise ServiceError(
            f"{what}: HTTP {response.status_code}{f' {code}' if code else ''}: {message}",
            status=response.status_code,
            code=code,
        )
    return response


def error_detail(response: httpx.Response) -> tuple[str, str]:
    """The code and the most useful message of an OData error body (F&O keeps it in innererror)."""
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        text = response.text.strip().splitlines()
        return "", text[0][:200] if text else response.reason_phrase
    inner = error.get("innererror") or {}
    message = inner.get("message") or error.get("message") or ""
    return str(error.get("code") or ""), " ".join(str(message).split())[:300]


def _connect_reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate not trusted"
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:120] if text else type(exc).__name__
