"""OData protocol helpers shared by the readers and the writers: paging and key literals."""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

SALES_API = "/api/data/v9.2/"  # the Dataverse Web API root under the org URL
FNO_API = "/data/"  # the F&O OData root under the environment URL


def tail_next_link(body: bytes, window: int = 16384) -> str | None:
    """The page's ``@odata.nextLink`` read from the end of its body without parsing the rest, or
    ``None`` when it is not the body's last member (then only a full parse can tell).

    Both services end a page with it, after ``value``; finding it early lets the next request
    go out while DuckDB parses this page. The full parse checks it says the same.
    """
    tail = body[-window:]
    at = tail.rfind(b'"@odata.nextLink"')
    if at < 0:
        return None
    try:
        text = tail[at:].decode("utf-8")
        colon = text.index(":", len('"@odata.nextLink"'))
        start = len(text[colon + 1:]) - len(text[colon + 1:].lstrip())
        link, end = _DECODER.raw_decode(text, colon + 1 + start)
    except (UnicodeDecodeError, ValueError):
        return None
    return link if isinstance(link, str) and text[end:].strip() == "}" else None


_DECODER = json.JSONDecoder()


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
