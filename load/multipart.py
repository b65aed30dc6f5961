"""OData ``$batch`` bodies: change sets out, per-request answers back (protocols.md 1.6, 2.4).

A batch is ``multipart/mixed``; each change set is a nested ``multipart/mixed`` of
``application/http`` requests with a ``Content-ID``. An answer is grouped per change set:
Dataverse answers a failed change set with the single response of its failing request,
F&O with one ``500`` part under the change set's boundary; either way the change set failed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

CRLF = "\r\n"


@dataclass(frozen=True)
class Request:
    method: str
    url: str  # absolute URL of the request
    body: dict | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_id: str = ""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str = ""

    def json(self) -> dict:
        try:
            value = json.loads(self.body) if self.body.strip() else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


@dataclass
class ChangeSetAnswer:
    answers: list[Answer] = field(default_factory=list)

    @property
    def failed(self) -> Answer | None:
        return next((a for a in self.answers if a.status >= 400), None)


def build(change_sets: Sequence[Sequence[Request]], *, gets: Sequence[Request] = ()) -> tuple[str, bytes]:
    """(Content-Type, body) of a batch: each change set atomic, then plain GETs."""
    boundary = f"batch_{uuid.uuid4()}"
    chunks = []
    for requests in change_sets:
        inner = f"changeset_{uuid.uuid4()}"
        parts = "".join(f"--{inner}{CRLF}{_part(r)}{CRLF}" for r in requests)
        chunks.append(f"Content-Type: multipart/mixed; boundary={inner}{CRLF}{CRLF}{parts}--{inner}--")
    chunks += [_part(r) for r in gets]
    body = "".join(f"--{boundary}{CRLF}{chunk}{CRLF}" for chunk in chunks) + f"--{boundary}--{CRLF}"
    return f"multipart/mixed; boundary={boundary}", body.encode()


def _part(request: Request) -> str:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if request.content_id:
        lines.append(f"Content-ID: {request.content_id}")
    lines += ["", f"{request.method} {request.url} HTTP/1.1"]
    if request.body is not None:
        lines.append("Content-Type: application/json; type=entry")
    lines += [f"{name}: {value}" for name, value in request.headers]
    lines += ["", "" if request.body is None else json.dumps(request.body, separators=(",", ":"))]
    return CRLF.join(lines)


def parse(content_type: str, body: bytes) -> list[ChangeSetAnswer | Answer]:
    """The batch response's items in order: a ``ChangeSetAnswer`` per change set, an ``Answer`` per plain request.

    A Dataverse failed change set comes back as a plain ``Answer``; callers match items to
    what they sent by position.
    """
    boundary = _boundary(content_type)
    if boundary is None:
        raise ValueError(f"a $batch answer must be multipart/mixed, not {content_type!r}")
    items: list[ChangeSetAnswer | Answer] = []
    for part in _split(body.decode("utf-8", "replace"), boundary):
        headers, content = _head(part)
        inner = _boundary(headers.get("Content-Type", ""))
        if inner is None:
            items.append(_answer(headers, content))
        else:
            items.append(ChangeSetAnswer([_answer(*_head(p)) for p in _split(content, inner)]))
    return items


def _boundary(content_type: str) -> str | None:
    """The boundary of a ``multipart/mixed`` Content-Type (quoted or not); None for any other type."""
    media, _, params = (content_type or "").partition(";")
    if media.strip().lower() != "multipart/mixed":
        return None
    found = _BOUNDARY.search(params)
    return (found.group(1) or found.group(2)) if found else None


_BOUNDARY = re.compile(r'(?i)(?:^|;)\s*boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))')


def _split(text: str, boundary: str) -> list[str]:
    """The parts between ``boundary``'s delimiter lines, up to its closing delimiter.

    Found with ``str.find``: every change set has its own boundary, and a regular expression per
    boundary would be compiled anew each time (most of p2c's own cost per record pushed)."""
    delimiter = f"--{boundary}"
    parts: list[str] = []
    start = None
    position = text.find(delimiter)
    while position != -1:
        end = position + len(delimiter)
        closing = text.startswith("--", end)
        line_end = text.find("\n", end)
        rest = text[end + (2 if closing else 0):line_end if line_end != -1 else len(text)]
        if (position == 0 or text[position - 1] == "\n") and not rest.strip(" \t\r"):
            if start is not None:
                stop = position - 1 if position > 0 else 0
                parts.append(text[start:stop - 1 if stop > 0 and text[stop - 1] == "\r" else stop])
            if closing:
                return parts
            start = line_end + 1 if line_end != -1 else len(text)
        position = text.find(delimiter, end)
    if start is not None:
        parts.append(text[start:])
    return parts


def _head(text: str) -> tuple[dict[str, str], str]:
    match = re.search(r"\r?\n\r?\n", text)
    head, rest = (text[:match.start()], text[match.end():]) if match else (text, "")
    headers = {}
    for line in head.splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip()] = value.strip()
    return headers, rest


def _answer(part_headers: dict[str, str], content: str) -> Answer:
    status_line, _, rest = content.lstrip("\r\n").partition("\n")
    match = re.match(r"HTTP/\d\.\d (\d{3})", status_line.strip())
    if not match:
        raise ValueError(f"a $batch answer part has no status line: {status_line[:80]!r}")
    headers, body = _head(rest)
    content_id = part_headers.get("Content-ID") or headers.get("Content-ID") or ""
    return Answer(int(match.group(1)), headers, body.strip().encode(), content_id)
