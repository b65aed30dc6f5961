"""OData 4.0 multipart `$batch` shared by both services: parse, run change sets, format.

A batch body is `multipart/mixed`; each part is either one request (`application/http`,
`Content-Transfer-Encoding: binary`) or a change set (a nested `multipart/mixed`). Inner
requests are answered by the service's own request handler, so authentication, rules
hooks and error envelopes are those of a single request. A change set is all or nothing:
the first failing request rolls back every write of its change set (`run_items` runs
consecutive write items in one store transaction and replays the ones before a failure).
`$n` (Content-ID) references are resolved inside their change set (OData 4.0 11.7.3.1).
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http import HTTPStatus
from urllib.parse import unquote, urlsplit

from emulate.errors import BadRequest
from emulate.server import Request, Response
from emulate.store import DeferredWriteFailed, Store, Transaction

_REQUEST_LINE = re.compile(r"(?P<method>[A-Z]+) (?P<url>\S+)(?: HTTP/\d\.\d)?")
_REFERENCE = re.compile(r"\$(?P<name>[A-Za-z0-9_.\-]+)(?P<rest>.*)", re.DOTALL)
_SYSTEM_SEGMENTS = {"metadata", "batch", "count", "ref", "value", "entity", "crossjoin", "all", "delta"}
_ENTITY_URL_HEADERS = ("OData-EntityId", "Location")


@dataclass
class Operation:
    """One request inside a batch, as sent."""

    method: str
    url: str
    headers: Message
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    operations: list[Operation] = field(default_factory=list)


@dataclass
class PartResponse:
    response: Response
    content_id: str | None = None


@dataclass
class ChangeSetResponse:
    parts: list[PartResponse]


Item = Operation | ChangeSet
Answer = PartResponse | ChangeSetResponse


# -- parsing ---------------------------------------------------------------------
def _boundary(content_type: str | None) -> str | None:
    header = Message()
    header["Content-Type"] = content_type or ""
    if header.get_content_type() != "multipart/mixed":
        return None
    boundary = header.get_param("boundary")
    return str(boundary) if boundary else None


def _split(text: str, boundary: str) -> list[str]:
    """The parts between `--boundary` lines (the line break before a delimiter belongs to it)."""
    parts: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines(keepends=True):
        bare = line.rstrip("\r\n")
        if bare in (f"--{boundary}", f"--{boundary}--"):
            if current is not None:
                parts.append(re.sub(r"\r?\n\Z", "", "".join(current)))
            if bare == f"--{boundary}--":
                return parts
            current = []
        elif current is not None:
            current.append(line)
    raise BadRequest(f"The batch body is not terminated by '--{boundary}--'.")


def _headers_and_body(text: str) -> tuple[Message, str]:
    if text.startswith(("\r\n", "\n")):  # no headers at all
        head, body = "", text.split("\n", 1)[1]
    else:
        match = re.search(r"\r?\n\r?\n", text)
        head, body = (text[:match.start()], text[match.end():]) if match else (text, "")
    headers = Message()
    for line in head.splitlines():
        if line.strip():
            name, colon, value = line.partition(":")
            if not colon:
                raise BadRequest(f"The batch part header line '{line}' is not valid.")
            headers[name.strip()] = value.strip()
    return headers, body


def _operation(text: str, part_headers: Message) -> Operation:
    if part_headers.get_content_type() != "application/http":
        raise BadRequest(f"The batch part content type '{part_headers.get('Content-Type', '')}' is not valid; expected 'application/http'.")
    request_line, _, rest = text.lstrip("\r\n").partition("\n")
    match = _REQUEST_LINE.fullmatch(request_line.strip())
    if not match:
        raise BadRequest(f"The request line '{request_line.strip()}' of a batch part is not valid.")
    headers, body = _headers_and_body(rest)
    content_id = part_headers.get("Content-ID") or headers.get("Content-ID")
    return Operation(match.group("method"), match.group("url"), headers, body.encode(), content_id)


def parse_batch(content_type: str | None, body: bytes) -> list[Item]:
    """The requests and change sets of a `multipart/mixed` batch body, in order."""
    boundary = _boundary(content_type)
    if boundary is None:
        raise BadRequest("The content type of a batch request must be multipart/mixed with a boundary.")
    try:
        text = body.decode()
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The batch body is not valid UTF-8: {exc}") from exc
    items: list[Item] = []
    for part in _split(text, boundary):
        headers, content = _headers_and_body(part)
        inner_boundary = _boundary(headers.get("Content-Type"))
        if inner_boundary is None:
            items.append(_operation(content, headers))
            continue
        change_set = ChangeSet()
        for inner in _split(content, inner_boundary):
            inner_headers, inner_content = _headers_and_body(inner)
            if _boundary(inner_headers.get("Content-Type")):
                raise BadRequest("A change set cannot contain another change set.")
            change_set.operations.append(_operation(inner_content, inner_headers))
        items.append(change_set)
    return items


def operation_count(items: list[Item]) -> int:
    return sum(len(item.operations) if isinstance(item, ChangeSet) else 1 for item in items)


def check_structure(items: list[Item], limit: int, too_many: str) -> None:
    """Refuse what no batch may hold: too many requests, nested batches, GET in a change set,
    and `$n` references to a Content-ID not declared before them in the same change set."""
    if operation_count(items) > limit:
        raise BadRequest(too_many)
    for item in items:
        operations = item.operations if isinstance(item, ChangeSet) else [item]
        declared: set[str] = set()
        for operation in operations:
            if urlsplit(operation.url).path.rstrip("/").endswith("$batch"):
                raise BadRequest("A batch request cannot contain another batch request.")
            if isinstance(item, ChangeSet) and operation.method in ("GET", "HEAD"):
                raise BadRequest("GET requests are not allowed in a change set.")
            for name in _references(operation):
                if name not in declared:
                    raise BadRequest(f"Content-ID Reference: '${name}' does not exist in the batch context.")
            if isinstance(item, ChangeSet) and operation.content_id:
                declared.add(operation.content_id)


# -- references ------------------------------------------------------------------
def _reference_name(text: object) -> str | None:
    match = _REFERENCE.fullmatch(text) if isinstance(text, str) else None
    if not match or match.group("name").lower() in _SYSTEM_SEGMENTS:
        return None
    return match.group("name")


def _bind_values(body: object) -> list[tuple[dict, str]]:
    """(object, key) of every `@odata.bind` / `@odata.id` value in a JSON body."""
    found: list[tuple[dict, str]] = []
    if isinstance(body, dict):
        for key, value in body.items():
            if key.endswith("@odata.bind") or key == "@odata.id":
                found.append((body, key))
            else:
                found += _bind_values(value)
    elif isinstance(body, list):
        for value in body:
            found += _bind_values(value)
    return found


def _json_body(operation: Operation) -> object:
    try:
        return json.loads(operation.body) if operation.body.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def _bind_references(payload: object) -> list[str]:
    """Content-ID names referenced by `@odata.bind` / `@odata.id` values of a JSON body."""
    names: list[str] = []
    for holder, key in _bind_values(payload):
        values = holder[key] if isinstance(holder[key], list) else [holder[key]]
        names += [name for name in map(_reference_name, values) if name]
    return names


def _references(operation: Operation) -> list[str]:
    """Content-ID names an operation refers to, in its URL or its body."""
    in_url = _reference_name(operation.url)
    return ([in_url] if in_url else []) + _bind_references(_json_body(operation))


def _resolve(text: object, references: dict[str, str]) -> object:
    name = _reference_name(text)
    if name is None:
        return text
    if name not in references:
        raise BadRequest(f"Content-ID Reference: '${name}' does not exist in the batch context.")
    return references[name] + _REFERENCE.fullmatch(text).group("rest")


def inner_request(operation: Operation, outer: Request, service_root: str, references: dict[str, str]) -> Request:
    """The operation as a request to the service: URL made absolute-path, `$n` resolved,
    the batch's `Authorization` carried over when the part has none."""
    url = _resolve(operation.url, references)
    target = urlsplit(url)
    path = target.path if target.scheme or url.startswith("/") else service_root + target.path
    headers = Message()
    for name, value in operation.headers.items():
        headers[name] = value
    if headers.get("Authorization") is None and outer.headers.get("Authorization"):
        headers["Authorization"] = outer.headers["Authorization"]
    body = operation.body
    payload = _json_body(operation)
    if _bind_references(payload):
        for holder, key in _bind_values(payload):
            value = holder[key]
            holder[key] = [_resolve(v, references) for v in value] if isinstance(value, list) else _resolve(value, references)
        body = json.dumps(payload).encode()
    return Request(operation.method, unquote(path), target.query, headers, body, outer.origin)


# -- running ---------------------------------------------------------------------
class _ChangeSetFailed(Exception):
    def __init__(self, part: PartResponse) -> None:
        super().__init__(part.response.status)
        self.part = part


def run_change_set(store: Store, change_set: ChangeSet,
                   answer: Callable[[Operation, dict[str, str]], Response]) -> tuple[list[PartResponse], PartResponse | None]:
    """Answer every operation in one transaction: (responses, None), or on the first failure
    ([], the failing part) with every write of the change set rolled back."""
    done: list[PartResponse] = []
    references: dict[str, str] = {}
    try:
        with store.writing():
            for operation in change_set.operations:
                part = PartResponse(answer(operation, references), operation.content_id)
                if part.response.status >= 400:
                    raise _ChangeSetFailed(part)
                done.append(part)
                entity_url = next((part.response.headers[h] for h in _ENTITY_URL_HEADERS if h in part.response.headers), None)
                if operation.content_id and entity_url:
                    references[operation.content_id] = entity_url
    except _ChangeSetFailed as failed:
        return [], failed.part
    return done, None


class _Rollback(Exception):
    """Raised inside a transaction to roll back every write of it."""


Prepare = Callable[[Transaction, list[Item]], None]


def run_items(store: Store, items: list[Item], answer: Callable[[Item], tuple[Answer, bool]],
              stop_on_failure: bool, prepare: Prepare | None = None) -> tuple[list[Answer], bool]:
    """Answer `items` in order: (answers, whether one failed); with `stop_on_failure` up to the first failure.

    `answer` answers one item (a change set through `run_change_set`) and says whether it failed.
    Consecutive write items share one transaction (a commit per change set was most of a write's
    cost). When one fails, that transaction rolls back, the items before it run again in one
    transaction that commits, and the failed item's answer stands: so every change set still
    commits all or nothing, and each item sees exactly what the items before it left. Requests
    that only read (GET outside a change set) run outside any write transaction, as alone.

    With `prepare`, a run of write items holds its inserts and updates back (`store.Transaction`)
    and `prepare(transaction, items)` first tells the transaction what it will look up; if the
    held-back writes fail together, the run goes again with each write sent at once.
    """
    answers: list[Answer] = []
    position, any_failed = 0, False
    while position < len(items):
        if _reads_only(items[position]) or store.in_transaction:
            part, failed = answer(items[position])
            done, failure = ([], part) if failed else ([part], None)
        else:
            end = position
            while end < len(items) and not _reads_only(items[end]):
                end += 1
            done, failure = _run_writes(store, items[position:end], answer, prepare)
        answers += done
        position += len(done)
        if failure is not None:
            answers.append(failure)
            position, any_failed = position + 1, True
            if stop_on_failure:
                return answers, True
    return answers, any_failed


def _reads_only(item: Item) -> bool:
    return isinstance(item, Operation) and item.method in ("GET", "HEAD")


def _run_writes(store: Store, items: list[Item], answer: Callable[[Item], tuple[Answer, bool]],
                prepare: Prepare | None) -> tuple[list[Answer], Answer | None]:
    """(answers of the items committed, the failed item's answer or None): all items in one transaction
    up to the first failure; the failure rolls it back and the items before it run again and commit.
    Held-back writes that fail together (`prepare`) roll it back too, and the items run again without."""
    try:
        return _run_writes_once(store, items, answer, prepare)
    except DeferredWriteFailed:
        return _run_writes_once(store, items, answer, None)


def _run_writes_once(store: Store, items: list[Item], answer: Callable[[Item], tuple[Answer, bool]],
                     prepare: Prepare | None) -> tuple[list[Answer], Answer | None]:
    done: list[Answer] = []
    failure: tuple[int, Answer] | None = None
    try:
        with store.writing(defer=prepare is not None) as transaction:
            if prepare is not None:
                prepare(transaction, items)
            for index, item in enumerate(items):
                part, failed = answer(item)
                if failed:
                    failure = (index, part)
                    raise _Rollback
                done.append(part)
    except _Rollback:
        index, part = failure
        if index == 0:
            return [], part
        again, other = _run_writes(store, items[:index], answer, prepare)
        return again, other or part  # `other`: an item before failed this time; the caller goes on after it
    return done, None


# -- formatting ------------------------------------------------------------------
def _http_part(part: PartResponse, boundary: str) -> str:
    lines = [f"--{boundary}", "Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if part.content_id:
        lines.append(f"Content-ID: {part.content_id}")
    response = part.response
    lines += ["", f"HTTP/1.1 {response.status} {HTTPStatus(response.status).phrase}"]
    lines += [f"{name}: {value}" for name, value in response.headers.items()]
    lines += ["", response.body.decode()]
    return "\r\n".join(lines) + "\r\n"


def format_batch(answers: list[Answer], status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The multipart response: `batchresponse_<guid>`, change sets under `changesetresponse_<guid>`."""
    boundary = f"batchresponse_{uuid.uuid4()}"
    chunks = []
    for answer in answers:
        if isinstance(answer, PartResponse):
            chunks.append(_http_part(answer, boundary))
            continue
        inner = f"changesetresponse_{uuid.uuid4()}"
        chunks.append(f"--{boundary}\r\nContent-Type: multipart/mixed; boundary={inner}\r\n\r\n"
                      + "".join(_http_part(part, inner) for part in answer.parts) + f"--{inner}--\r\n")
    body = "".join(chunks) + f"--{boundary}--\r\n"
    return Response(status, body.encode(), {"Content-Type": f"multipart/mixed; boundary={boundary}", **(headers or {})})
