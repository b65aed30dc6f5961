"""F&O `$batch` (protocols.md 2.4).

Change sets are atomic. The batch answers 200 even when a change set fails; the failed
change set is answered by one part, `HTTP/1.1 500 Internal Server Error` with the F&O
error envelope, under its `changesetresponse_<guid>` with the failing request's
Content-ID. Requests outside change sets are each answered on their own. The operation
limit (5,000 in the service-protection page, flagged uncertain) is a setting.
"""

from collections.abc import Callable

from emulate.errors import MethodNotAllowed
from emulate.odata.batch import (
    Answer, ChangeSet, ChangeSetResponse, Item, Operation, PartResponse, check_structure, format_batch, inner_request,
    parse_batch, run_change_set, run_items,
)
from emulate.server import Request, Response
from emulate.store import Store

DEFAULT_MAX_OPERATIONS = 5000


class FnoBatch:
    """Runs a batch through `respond`, the service's handler for one request."""

    def __init__(self, store: Store, respond: Callable[[Request], Response], max_operations: int = DEFAULT_MAX_OPERATIONS) -> None:
        self.store, self.respond, self.max_operations = store, respond, max_operations

    def __call__(self, request: Request, service_root: str) -> Response:
        if request.method != "POST":
            raise MethodNotAllowed(f"The requested resource does not support http method '{request.method}'.")
        items = parse_batch(request.headers.get("Content-Type"), request.body)
        check_structure(items, self.max_operations,
                        f"The number of operations in a batch cannot exceed {self.max_operations}.")

        def answer(item: Item) -> tuple[Answer, bool]:
            if isinstance(item, ChangeSet):
                done, failed = run_change_set(self.store, item, lambda op, refs: self._answer(op, refs, request, service_root))
                if failed:
                    failed.response.status = 500
                    return ChangeSetResponse([failed]), True
                return ChangeSetResponse(done), False
            part = PartResponse(self._answer(item, {}, request, service_root), item.content_id)
            return part, part.response.status >= 400

        return format_batch(run_items(self.store, items, answer, stop_on_failure=False)[0])

    def _answer(self, operation: Operation, references: dict[str, str], outer: Request, service_root: str) -> Response:
        return self.respond(inner_request(operation, outer, service_root, references))
