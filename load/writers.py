"""Writers: planned operations → ``$batch`` requests, one change set per document, and back to outcomes.

Dataverse (Sales): a create is an upsert on the record's deterministic id (``PATCH set(id)``
without ``If-Match``), an update a ``PATCH`` with ``If-Match`` and the ETag the record had
when planned (``*`` when the target's version was not extracted); lookups go as
``nav@odata.bind``. F&O: ``POST`` inserts, ``PATCH`` updates (no upsert). Written records
are read back in one more ``$batch`` of filtered GETs (``write_and_read``): asking each write
for its representation costs the emulated Sales service twice the time per record.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote

import httpx

from extract.errors import ServiceError
from extract.http import error_detail, send
from extract.odata import FNO_API, SALES_API, key_literal, key_path
from load import multipart
from load.config import Target
from load.errors import PushError
from load.plan import PlanItem

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$")


@dataclass(frozen=True)
class Outcome:
    status: str                     # ok | failed | conflict (412: the target changed) | rolled_back
    http_status: int | None
    target_id: str = ""
    error_code: str = ""
    error_message: str = ""
    row: dict | None = None         # the record as the service answered it (read-back)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class BatchWriter:
    """Shared by both services: build one ``$batch`` of change sets, send it, read its answers."""

    system = ""
    api = ""
    records_per_get = 50  # records one filtered GET of ``read`` asks for

    def __init__(self, client: httpx.Client, targets: dict[str, Target]) -> None:
        self.client, self.targets = client, targets
        self.dop_hint: int | None = None
        self.requests_sent = 0

    def url(self, path: str) -> str:
        return f"{str(self.client.base_url).rstrip('/')}{self.api}{path}"

    def request(self, item: PlanItem) -> multipart.Request:
        raise NotImplementedError

    def read_request(self, items: Sequence[PlanItem]) -> multipart.Request:
        raise NotImplementedError

    def target_id(self, item: PlanItem, row: dict | None) -> str:
        raise NotImplementedError

    def write(self, documents: Sequence[Sequence[PlanItem]], what: str) -> dict[int, Outcome]:
        """Send ``documents`` (each one change set) in one ``$batch``; an outcome per item's seq."""
        content_type, body = multipart.build([[self.request(i) for i in doc] for doc in documents])
        answers = self._post(content_type, body, what)
        outcomes: dict[int, Outcome] = {}
        for doc, answer in zip(documents, answers, strict=False):
            parts = answer.answers if isinstance(answer, multipart.ChangeSetAnswer) else [answer]
            failed = next((a for a in parts if a.status >= 400), None)
            if failed is None:
                by_id = {a.content_id: a for a in parts}
                for position, item in enumerate(doc):
                    got = by_id.get(str(item.seq)) or (parts[position] if position < len(parts) else None)
                    row = got.json() if got is not None else None
                    outcomes[item.seq] = Outcome("ok", got.status if got else None, self.target_id(item, row or None), row=row or None)
                continue
            culprit = next((i for i in doc if str(i.seq) == failed.content_id), doc[0] if len(doc) == 1 else None)
            code, message = _error(failed)
            for item in doc:
                if item is culprit:
                    status = "conflict" if failed.status == 412 else "failed"
                    if failed.status == 412:
                        message = f"the target record changed since it was planned (ETag mismatch), not overwritten: {message}"
                    outcomes[item.seq] = Outcome(status, failed.status, self.target_id(item, None), code, message)
                else:
                    where = f"seq {culprit.seq}" if culprit else "another record"
                    outcomes[item.seq] = Outcome("rolled_back", failed.status, self.target_id(item, None), code,
                                                 f"not applied: {where} of the same document failed ({message})")
        for doc in documents[len(answers):]:
            for item in doc:
                outcomes[item.seq] = Outcome("failed", None, self.target_id(item, None), "", "no answer in the $batch response")
        return outcomes

    def write_and_read(self, documents: Sequence[Sequence[PlanItem]], what: str) -> dict[int, Outcome]:
        """``write``, then the written records as the target now holds them (for the read-back)."""
        outcomes = self.write(documents, what)
        landed = [i for doc in documents for i in doc if outcomes[i.seq].ok and outcomes[i.seq].row is None]
        if landed:
            rows = self.read(landed, f"{what} read-back")
            for item in landed:
                if rows.get(item.seq) is not None:
                    outcomes[item.seq] = replace(outcomes[item.seq], row=rows[item.seq],
                                                 target_id=self.target_id(item, rows[item.seq]))
        return outcomes

    def read(self, items: Sequence[PlanItem], what: str, per_get: int | None = None, per_batch: int = 1000) -> dict[int, dict | None]:
        """The target's current record for each item (None: not there): filtered GETs of ``per_get``
        (``records_per_get``) records each, up to ``per_batch`` GETs in one ``$batch``."""
        per_get = per_get or self.records_per_get
        groups: dict[tuple[str, str], list[PlanItem]] = {}
        for item in items:
            groups.setdefault((item.model, item.operation.entity), []).append(item)
        chunks = [group[i:i + per_get] for group in groups.values() for i in range(0, len(group), per_get)]
        found: dict[int, dict | None] = {item.seq: None for item in items}
        for start in range(0, len(chunks), per_batch):
            sent = chunks[start:start + per_batch]
            content_type, body = multipart.build([], gets=[self.read_request(chunk) for chunk in sent])
            for chunk, answer in zip(sent, self._post(content_type, body, what), strict=False):
                if not isinstance(answer, multipart.Answer) or answer.status >= 300:
                    status = answer.status if isinstance(answer, multipart.Answer) else "?"
                    raise ServiceError(f"{what}: reading {chunk[0].operation.entity} answered HTTP {status}: "
                                       f"{_error(answer)[1] if isinstance(answer, multipart.Answer) else ''}")
                rows = answer.json().get("value") or []
                by_identity = {self.identity_of(chunk[0], row): row for row in rows}
                for item in chunk:
                    found[item.seq] = by_identity.get(self.identity_of(item, None))
        return found

    def identity_of(self, item: PlanItem, row: dict | None) -> tuple:
        """How a read row is matched to an item: its key values, case-folded."""
        raise NotImplementedError

    def _post(self, content_type: str, body: bytes, what: str) -> list:
        response = send(self.client, "POST", self.url("$batch"), content=body, what=what, timeout=BATCH_TIMEOUT,
                        headers={"Content-Type": content_type, "Prefer": "odata.continue-on-error"})
        self.requests_sent += 1
        hint = response.headers.get("x-ms-dop-hint")
        if hint and hint.isdigit():
            self.dop_hint = int(hint)
        return multipart.parse(response.headers.get("Content-Type", ""), response.content)


class DataverseWriter(BatchWriter):
    system, api = "sales", SALES_API
    # Every request in a $batch counts against service protection: 100 ids per GET (a ~6 KB URL, sent in
    # the $batch body) halve the GETs, and cost the emulated service ~40% less per record read (bench/push_batch.py).
    records_per_get = 100

    def request(self, item: PlanItem) -> multipart.Request:
        op, target = item.operation, self.targets[item.model]
        body = {}
        if op.action == "insert":
            body.update({k: v for k, v in op.key if k != target.id})
        body.update({c.field: c.new for c in op.changes})
        binds = {b.column: b for b in target.binds}
        payload = {}
        for name, value in body.items():
            if name in binds:
                navigation, entity_set = binds[name].for_row(item.notes)
                payload[f"{navigation}@odata.bind"] = None if value is None else f"/{entity_set}({_bound_guid(op, name, value)})"
            else:
                payload[name] = _wire(value)
        headers = [("If-Match", item.etag or "*")] if op.action == "update" else []
        return multipart.Request("PATCH", self.url(f"{op.entity}({_guid(op.target_id)})"), payload, tuple(headers), str(item.seq))

    def read_request(self, items: Sequence[PlanItem]) -> multipart.Request:
        id_column = self.targets[items[0].model].id
        condition = " or ".join(f"{id_column} eq {_guid(i.operation.target_id)}" for i in items)
        return multipart.Request("GET", self.url(f"{items[0].operation.entity}?$filter={_query(condition)}"))

    def identity_of(self, item: PlanItem, row: dict | None) -> tuple:
        value = row.get(self.targets[item.model].id) if row is not None else item.operation.target_id
        return (str(value or "").casefold(),)

    def target_id(self, item: PlanItem, row: dict | None) -> str:
        target = self.targets[item.model]
        return str((row or {}).get(target.id) or item.operation.target_id or "")


class FnoWriter(BatchWriter):
    system, api = "fno", FNO_API

    def request(self, item: PlanItem) -> multipart.Request:
        op = item.operation
        headers = ()
        if op.action == "insert":
            return multipart.Request("POST", self.url(op.entity), {k: _wire(v) for k, v in op.values.items()}, headers, str(item.seq))
        body = {c.field: _wire(c.new) for c in op.changes}
        return multipart.Request("PATCH", self.url(f"{key_path(op.entity, dict(op.key))}?cross-company=true"), body,
                                 headers, str(item.seq))

    def read_request(self, items: Sequence[PlanItem]) -> multipart.Request:
        condition = " or ".join(
            "(" + " and ".join(f"{name} eq {key_literal(value)}" for name, value in i.operation.key) + ")" for i in items)
        return multipart.Request("GET", self.url(f"{items[0].operation.entity}?cross-company=true&$filter={_query(condition)}"))

    def identity_of(self, item: PlanItem, row: dict | None) -> tuple:
        names = [name for name, _ in item.operation.key]
        values = [row.get(n) for n in names] if row is not None else [v for _, v in item.operation.key]
        return tuple(str(v).casefold() for v in values)

    def target_id(self, item: PlanItem, row: dict | None) -> str:
        return key_path(item.operation.entity, dict(item.operation.key))


_SAFE = "()'=,"
_PLAIN = re.compile(r"[A-Za-z0-9_.~()'=, -]*")  # what quote(text, safe=_SAFE) leaves as is, and spaces


def _query(text: str) -> str:
    """``quote(text, safe=_SAFE)``, without its character-by-character loop when only spaces need escaping."""
    return text.replace(" ", "%20") if _PLAIN.fullmatch(text) else quote(text, safe=_SAFE)
BATCH_TIMEOUT = httpx.Timeout(60.0, read=600.0)  # a batch of 1,000 writes may take minutes to answer


def _guid(value: Any) -> str:
    """A GUID literal for a Dataverse filter; anything else is refused rather than spliced into the URL."""
    return str(uuid.UUID(str(value)))


def _bound_guid(op: Any, column: str, value: Any) -> str:
    """A lookup's GUID for ``@odata.bind``; anything else is one clear error naming the record and column."""
    try:
        return _guid(value)
    except ValueError:
        raise PushError(f"{op.entity} {'/'.join(str(v) for _, v in op.key)}: {column} = {value!r} is not a GUID") from None


def _wire(value: Any) -> Any:
    """A planned value as the services expect it: timestamps in ISO form."""
    if isinstance(value, str) and _TIMESTAMP.match(value):
        return value.replace(" ", "T") + "Z"
    return value


def _error(answer: multipart.Answer) -> tuple[str, str]:
    return error_detail(httpx.Response(answer.status, content=answer.body))
