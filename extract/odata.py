"""OData protocol helpers shared by the readers and the writers: paging and key literals."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from extract.errors import PageError
from extract.http import send
from extract.retry import RetryStats

SALES_API = "/api/data/v9.2/"  # the Dataverse Web API root under the org URL
FNO_API = "/data/"  # the F&O OData root under the environment URL


def read_pages(
    client: httpx.Client,
    url: str,
    *,
    params: Mapping[str, str],
    headers: Mapping[str, str],
    on_page: Callable[[bytes], str | None],
    what: str,
    stats: RetryStats | None = None,
) -> int:
    """GET ``url`` and every ``@odata.nextLink`` after it; returns the number of requests.

    ``on_page`` receives each page's body and returns its nextLink (``None`` on the last
    page). The link is followed verbatim, as both services require.
    """
    seen: set[str] = set()
    next_url: str | None = url
    request_params: Mapping[str, str] | None = params
    requests = 0
    while next_url is not None:
        response = send(client, "GET", next_url, params=request_params, headers=headers, what=what, stats=stats)
        requests += 1
        link = on_page(response.content)
        if link is not None and link in seen:
            raise PageError(f"{what}: the service repeated a nextLink ({link[:120]}); stopping instead of looping")
        if link is not None:
            seen.add(link)
        next_url, request_params = link, None
    return requests


def on_service(link: str, base_url: httpx.URL | str) -> str:
    """``link`` as stored, moved onto ``base_url``'s origin when the service's address has changed.

    A stored deltaLink names the service it came from; the profile decides where the service
    is now (an emulated tenant gets new ports each start), and the bearer token never goes
    to another host.
    """
    parts, base = urlsplit(link), urlsplit(str(base_url))
    if not parts.scheme or (parts.scheme, parts.netloc) == (base.scheme, base.netloc):
        return link
    return urlunsplit((base.scheme, base.netloc, parts.path, parts.query, parts.fragment))


def key_literal(value: object) -> str:
    """An OData literal for a key value: strings quoted with '' escaping, numbers bare."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not a key value: {value!r}")
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def key_path(entity_set: str, key: Mapping[str, object]) -> str:
    """``Set(a='x',b='y')``, percent-encoded so any value is safe in a URL path."""
    parts = ",".join(f"{name}={quote(key_literal(value), safe=_QUOTE)}" for name, value in key.items())
    return f"{entity_set}({parts})"


_QUOTE = "'"
