"""OData protocol helpers shared by the readers and the writers: paging, key literals and record counts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
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


RECORD_COUNT_FUNCTION = "RetrieveTotalRecordCount"


def record_count_path(logical_names: Iterable[str]) -> str:
    """The Web API call answering each named table's record count in one request:
    ``RetrieveTotalRecordCount(EntityNames=['account','contact'])`` (logical names)."""
    names = ",".join(key_literal(name) for name in logical_names)
    return f"{SALES_API}{RECORD_COUNT_FUNCTION}(EntityNames=[{names}])"


def read_record_counts(body: bytes) -> dict[str, int]:
    """Logical name -> record count from the function's answer (its ``EntityRecordCountCollection``,
    ``Keys`` and ``Values`` side by side); ``ValueError`` when the body is not such an answer."""
    try:
        collection = json.loads(body)["EntityRecordCountCollection"]
        keys, values = collection["Keys"], collection["Values"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"not a {RECORD_COUNT_FUNCTION} answer") from exc
    if not (isinstance(keys, list) and isinstance(values, list) and len(keys) == len(values)
            and all(isinstance(k, str) for k in keys)
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values)):
        raise ValueError(f"not a {RECORD_COUNT_FUNCTION} answer: Keys and Values do not pair up")
    return dict(zip(keys, values))


def sales_logical_name(entity_set_key: str) -> str | None:
    """A Dataverse table's logical name from its primary key column: ``accountid`` -> ``account``
    (the platform names a table's primary id ``<logical name>id``); None for a key that is not one."""
    name = entity_set_key.removesuffix("id")
    return name if name and name != entity_set_key else None
