"""Dataverse `$batch` (protocols.md 1.6; execute-batch-operations-using-web-api.md).

Up to 1,000 requests, no nested batches, no GET inside a change set. Without
`Prefer: odata.continue-on-error` processing stops at the first failing request and the
batch answers 400; with it the batch answers 200 and every request has its own status.
A failed change set is answered by the single response of its failing request.

Before a run of writes the batch tells the transaction which rows its requests name
(`DataverseWrites.remember`), so that looking them up asks the store once for all of them.
"""

import json
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.paging import parse_prefer
from emulate.dataverse.writes import DataverseWrites
from emulate.errors import MethodNotAllowed
from emulate.odata.batch import (
    Answer, ChangeSet, ChangeSetResponse, Item, Operation, PartResponse, check_structure, format_batch, inner_request,
    parse_batch, run_change_set, run_items,
)
from emulate.odata.keys import parse_resource
from emulate.server import Request, Response
from emulate.store import Store, Transaction

MAX_REQUESTS = 1000


class DataverseBatch:
    """Runs a batch through `respond`, the service's handler for one request."""

    def __init__(self, store: Store, respond: Callable[[Request], Response]) -> None:
        self.store, self.respond = store, respond

    def __call__(self, request: Request, service_root: str) -> Response:
        if request.method != "POST":
            raise MethodNotAllowed(f"The requested resource does not support http method '{request.method}'.", code="0x80060888")
        items = parse_batch(request.headers.get("Content-Type"), request.body)
        # The count message is ours: the documented limit is 1,000, the real wording is not documented.
        check_structure(items, MAX_REQUESTS, f"The number of requests in a batch cannot exceed {MAX_REQUESTS}.")
        continue_on_error = "odata.continue-on-error" in parse_prefer(request.header_values("Prefer"))

        def answer(item: Item) -> tuple[Answer, bool]:
            if isinstance(item, ChangeSet):
                done, failed = run_change_set(self.store, item, lambda op, refs: self._answer(op, refs, request, service_root))
                return failed or ChangeSetResponse(done), failed is not None
            part = PartResponse(self._answer(item, {}, request, service_root), item.content_id)
            return part, part.response.status >= 400

        answers, failed = run_items(self.store, items, answer, stop_on_failure=not continue_on_error, prepare=remember_targets)
        return format_batch(answers, status=400 if failed and not continue_on_error else 200)

    def _answer(self, operation: Operation, references: dict[str, str], outer: Request, service_root: str) -> Response:
        return self.respond(inner_request(operation, outer, service_root, references))


def remember_targets(transaction: Transaction, items: list[Item]) -> None:
    """Tell the transaction, per entity set, the rows the writes' URLs name (`set(<guid>)`) and the
    alternate-key values their bodies carry: `DataverseWrites.remember` reads them in one go."""
    row_ids: dict[str, list[str]] = {}
    key_values: dict[str, dict[tuple[str, ...], list[str]]] = {}
    for item in items:
        for operation in item.operations if isinstance(item, ChangeSet) else [item]:
            resource = parse_resource(unquote(urlsplit(operation.url).path).rsplit("/", 1)[-1])
            entity = SALES_ENTITY_SETS.get(resource.entity_set) if resource else None
            if entity is None or operation.method not in ("PATCH", "POST", "DELETE"):
                continue
            if resource.key and None in resource.key:
                row_ids.setdefault(entity.name, []).append(resource.key[None].value)
            body = _object(operation.body) if entity.alternate_keys else {}
            for key in entity.alternate_keys:
                if isinstance(body.get(key[0]), str):
                    key_values.setdefault(entity.name, {}).setdefault(key, []).append(body[key[0]])
    for name in row_ids.keys() | key_values.keys():
        DataverseWrites.remember(transaction, SALES_ENTITY_SETS[name], row_ids.get(name, []), key_values.get(name, {}))


def _object(body: bytes) -> dict:
    try:
        payload = json.loads(body) if body.strip() else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}
