"""Writers: one per target system, turning a planned operation into HTTP requests."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from extract.errors import ServiceError
from extract.http import send
from extract.odata import FNO_API, key_path
from load.diff import Operation
from load.plan import json_value


@dataclass(frozen=True)
class Outcome:
    ok: bool
    http_status: int | None
    target_id: str = ""
    error_code: str = ""
    error_message: str = ""


class Writer(Protocol):
    def write(self, operation: Operation) -> Outcome: ...


class FnoWriter:
    """F&O data entities: POST inserts, PATCH updates by the full key (F&O has no upsert)."""

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def write(self, operation: Operation) -> Outcome:
        key = dict(operation.key)
        path = key_path(operation.entity, key)
        what = f"fno.{path}"
        body = _json(operation.values)
        headers = {"Content-Type": "application/json"}
        try:
            if operation.action == "insert":
                response = send(self.client, "POST", f"{FNO_API}{operation.entity}", content=body, headers=headers, what=what)
            else:
                response = send(
                    self.client, "PATCH", f"{FNO_API}{path}", params={"cross-company": "true"},
                    content=body, headers=headers, what=what,
                )
        except ServiceError as exc:
            if exc.status is None:
                raise  # the service is unreachable: stop the push rather than fail every record
            return Outcome(False, exc.status, path, exc.code, str(exc))
        return Outcome(True, response.status_code, path)


def _json(values: dict[str, Any]) -> bytes:
    return json.dumps(values, default=json_value).encode()
