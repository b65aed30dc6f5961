"""The Dataverse Web API app: authentication, routing, headers and error envelope."""

import datetime as dt
import re
import uuid
from collections.abc import Callable

from emulate.authority import TokenAuthority
from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.batch import DataverseBatch
from emulate.dataverse.bulk import BulkActions, parse_bulk_action
from emulate.dataverse.changes import ChangeTracking
from emulate.dataverse.reads import get_collection, get_single
from emulate.dataverse.routes import read_route
from emulate.dataverse.writes import DataverseWrites, parse_property_path
from emulate.errors import MethodNotAllowed, NotFound, ServiceError
from emulate.odata.keys import parse_resource
from emulate.odata.service import ODataService
from emulate.read_ahead import ReadAhead
from emulate.server import Request, Response
from emulate.store import Store

_API_ROOT = re.compile(r"/api/data/(v9\.[0-2])(?:/(.*))?")


class DataverseService(ODataService):
    """Serves `/api/data/v9.x/` for the Sales entity sets of the catalog."""

    def __init__(self, store: Store, authority: TokenAuthority, seed: int,
                 clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc),
                 read_ahead: ReadAhead | None = None) -> None:
        self.store = store
        self.read_ahead = read_ahead  # builds the next page of a scan in the background (emulate/read_ahead.py)
        self.authority = authority
        self.writes = DataverseWrites(store, seed, clock)
        self.batch = DataverseBatch(store, self.respond)
        self.bulk = BulkActions(self.writes)
        self.changes = ChangeTracking(store, clock)  # `changes.retention` is settable for tests

    def rows(self, entity_set: str) -> list[dict]:
        """Stored rows of `entity_set`, columns named as served (tests, scenarios)."""
        return self.store.rows(SALES_ENTITY_SETS[entity_set])

    def error_body(self, exc: ServiceError) -> dict:
        return {"error": {"code": exc.code or "0x80040203", "message": exc.message}}

    def trace_headers(self) -> dict[str, str]:
        request_id = str(uuid.uuid4())
        return {"REQ_ID": request_id, "x-ms-service-request-id": request_id}

    def _route(self, request: Request) -> Response:
        match = _API_ROOT.fullmatch(request.path)
        if not match:
            raise NotFound(f"Resource not found for the segment '{request.path}'.", code="0x8006088a")
        self.authority.verify(request.headers.get("Authorization"), audience=request.origin)
        api_root = f"{request.origin}/api/data/{match.group(1)}/"
        segment = match.group(2) or ""
        if segment == "":
            if request.method != "GET":
                raise MethodNotAllowed("The requested resource does not support http method.", code="0x80060888")
            return Response.json(200, {"@odata.context": f"{api_root}$metadata", "value": [
                {"name": name, "kind": "EntitySet", "url": name} for name in SALES_ENTITY_SETS]})
        if segment == "$batch":
            return self.batch(request, api_root.removeprefix(request.origin))
        if request.method == "GET" and (answer := read_route(segment, request, api_root, self.store, self.changes,
                                                             self.authority.registration.tenant_id,
                                                             self.authority.registration.client_id)) is not None:
            return answer
        if request.method == "POST" and (bulk := parse_bulk_action(segment)):
            return self.bulk(bulk, request, api_root)
        if request.method in ("PUT", "DELETE") and (path := parse_property_path(segment)):
            return self.writes.write_property(path, request)
        resource = parse_resource(segment)
        entity = SALES_ENTITY_SETS.get(resource.entity_set) if resource else None
        if entity is None:
            raise NotFound(f"Resource not found for the segment '{segment.split('(')[0]}'.", code="0x8006088a")
        handlers = {
            (False, "GET"): lambda: get_collection(self.store, entity, request, api_root, self.changes, self.read_ahead),
            (False, "POST"): lambda: self.writes.create(entity, request, api_root),
            (True, "GET"): lambda: get_single(self.store, entity, resource.key, request, api_root),
            (True, "PATCH"): lambda: self.writes.upsert(entity, resource.key, request, api_root),
            (True, "DELETE"): lambda: self.writes.delete(entity, resource.key, request),
        }
        handler = handlers.get((resource.key is not None, request.method))
        if handler is None:
            raise MethodNotAllowed(f"The requested resource does not support http method '{request.method}'.", code="0x80060888")
        return handler()
