"""The HTTP clients p2c talks to Sales and F&O through: retries, counts and error translation."""

from __future__ import annotations

import json
import re
import ssl
from pathlib import Path

import httpx

from extract.errors import AuthError, ServiceError
from extract.retry import (
    IDEMPOTENT_METHODS,
    SINGLE_ATTEMPT,
    RetryPolicy,
    RetryStats,
    may_have_been_applied,
    may_repeat,
    retry_after_s,
)

ODATA_HEADERS = {
    "Accept": "application/json",
    "OData-MaxVersion": "4.0",
    "OData-Version": "4.0",
}


class ServiceClient(httpx.Client):
    """An ``httpx.Client`` carrying the retry policy ``send`` follows and the counts it keeps."""

    def __init__(self, *, retry: RetryPolicy, **kwargs) -> None:
        super().__init__(**kwargs)
        self.retry = retry
        self.stats = RetryStats()


def make_client(
    base_url: str,
    auth: httpx.Auth,
    *,
    ca_file: Path | None = None,
    transport: httpx.BaseTransport | None = None,
    timeout: float = 60.0,
    retry: RetryPolicy | None = None,
) -> ServiceClient:
    """An OData client rooted at ``base_url``; trusts ``ca_file`` when given, never skips verification.

    ``send`` retries its requests by ``retry`` (the defaults when not given) and counts them in ``client.stats``.
    """
    verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca_file)) if ca_file else True
    return ServiceClient(
        retry=retry or RetryPolicy(),
        base_url=base_url,
        auth=auth,
        headers=ODATA_HEADERS,
        verify=verify,
        transport=transport,
        timeout=timeout,
        trust_env=ca_file is None,
    )


def send(
    client: httpx.Client, method: str, url: str, *, what: str, stats: RetryStats | None = None, **kwargs
) -> httpx.Response:
    """Send one request, again when that is safe and worth it (extract/retry.py), and return a 2xx/3xx answer.

    Anything else becomes one line: ``AuthError`` for a 401 that survived the token refresh,
    ``ServiceError`` otherwise (``status`` is ``None`` when the service could not be reached
    or kept throttling: nothing after this request will fare better). Counts go to the
    client's stats and to ``stats`` when given (one entity's share of a shared client).
    """
    policy: RetryPolicy = getattr(client, "retry", SINGLE_ATTEMPT)
    sinks = [s for s in (getattr(client, "stats", None), stats) if s is not None]
    sends = failures = throttles = 0
    waited_throttled = 0.0
    while True:
        sends += 1
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            _count_send(sinks, None)
            failures += 1
            if failures >= policy.max_attempts or not may_repeat(method, error=exc):
                raise _transport_error(client, method, what, exc, sends) from exc
            _wait(policy, sinks, policy.backoff(failures), throttled=False)
            continue
        _count_send(sinks, response)
        status = response.status_code
        if status < 400:
            return response
        if status == 401:
            raise AuthError(
                f"{what}: {client.base_url} refused the access token (HTTP 401) even after a fresh one was fetched; "
                "check that the app registration has access to this environment"
            )
        if status == 429 and policy.max_throttle_s > 0:
            throttles += 1
            asked = retry_after_s(response)
            delay = asked if asked is not None else policy.backoff(throttles)
            if waited_throttled + delay > policy.max_throttle_s:
                raise _throttled_error(what, response, waited_throttled, asked, policy.max_throttle_s)
            waited_throttled += delay
            _wait(policy, sinks, delay, throttled=True)
            continue
        if status != 429 and may_repeat(method, status=status) and failures + 1 < policy.max_attempts:
            failures += 1
            _wait(policy, sinks, policy.backoff(failures), throttled=False)
            continue
        raise _status_error(what, response, sends)


def _count_send(sinks: list[RetryStats], response: httpx.Response | None) -> None:
    for sink in sinks:
        sink.sent(response)


def _wait(policy: RetryPolicy, sinks: list[RetryStats], seconds: float, *, throttled: bool) -> None:
    for sink in sinks:
        sink.waited(seconds, throttled=throttled)
    policy.sleep(seconds)


def _status_error(what: str, response: httpx.Response, sends: int) -> ServiceError:
    code, message = error_detail(response)
    tries = f" (after {sends} attempts)" if sends > 1 else ""
    return ServiceError(
        f"{what}: HTTP {response.status_code}{f' {code}' if code else ''}: {message}{tries}",
        status=response.status_code,
        code=code,
    )


def _throttled_error(what: str, response: httpx.Response, waited: float, asked: float | None, limit: float) -> ServiceError:
    code, _ = error_detail(response)
    last = f"{asked:g} s" if asked is not None else "not given"
    return ServiceError(
        f"{what}: still throttled (HTTP 429) after waiting {waited:.0f} s (last Retry-After {last}); "
        f"gave up at the {limit:g} s throttling limit, run again later",
        code=code,
    )


def _transport_error(client: httpx.Client, method: str, what: str, exc: httpx.TransportError, sends: int) -> ServiceError:
    tries = f" (after {sends} attempts)" if sends > 1 else ""
    if isinstance(exc, httpx.ConnectError):
        return ServiceError(f"{what}: cannot reach {client.base_url} ({_connect_reason(exc)}){tries}")
    if method.upper() not in IDEMPOTENT_METHODS and may_have_been_applied(exc):
        return ServiceError(
            f"{what}: the connection to {client.base_url} broke before the answer was complete ({type(exc).__name__}); "
            f"a {method.upper()} is not sent twice because the service may have applied it, so check the target before running again"
        )
    if isinstance(exc, httpx.TimeoutException):
        return ServiceError(f"{what}: {client.base_url} did not answer in time{tries}")
    return ServiceError(f"{what}: connection to {client.base_url} failed ({type(exc).__name__}){tries}")


def error_detail(response: httpx.Response) -> tuple[str, str]:
    """The code and the most useful message of an OData error body (F&O keeps it in innererror)."""
    try:
        error = json.loads(response.content)["error"]
    except (ValueError, KeyError, TypeError):
        title = _HTML_TITLE.search(response.text)  # a front end's 502/503/504 page
        if title:
            return "", " ".join(title.group(1).split())[:200]
        text = response.text.strip().splitlines()
        return "", text[0][:200] if text else response.reason_phrase
    inner = error.get("innererror") or {}
    message = inner.get("message") or error.get("message") or ""
    return str(error.get("code") or ""), " ".join(str(message).split())[:300]


_HTML_TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _connect_reason(exc: Exception) -> str:
    text = str(exc)
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "certificate not trusted"
    if "refused" in text.lower():
        return "connection refused"
    return text.splitlines()[0][:120] if text else type(exc).__name__
