"""The F&O OData app (`/data`): authentication, routing and the error envelope."""

import uuid

from emulate.authority import TokenAuthority
from emulate.catalog import FNO_ENTITY_SETS
from emulate.errors import MethodNotAllowed, NotFound, ServiceError
from emulate.fno.batch import FnoBatch
from emulate.fno.reads import ODATA_EXCEPTION, get_collection, get_single
from emulate.fno.routes import read_route
from emulate.fno.writes import FnoWrites
from emulate.odata.keys import parse_resource
from emulate.odata.service import ODataService
from emulate.read_ahead import ReadAhead
from emulate.server import Request, Response
from emulate.store import Store


class FnoService(ODataService):
    """Serves `/data/<EntitySet>` for the F&O entity sets of the catalog."""

    def __init__(self, store: Store, authority: TokenAuthority, page_size: int, read_ahead: ReadAhead | None = None) -> None:
        self.store = store
        self.read_ahead = read_ahead  # builds the next page of a scan in the background (emulate/read_ahead.py)
        self.authority = authority
        self.page_size = page_size
        self.writes = FnoWrites(store)
        self.batch = FnoBatch(store, self.respond)

    def rows(self, entity_set: str) -> list[dict]:
        """Stored rows of `entity_set`, columns named as served (tests, scenarios)."""
        return self.store.rows(FNO_ENTITY_SETS[entity_set])

    def error_body(self, exc: ServiceError) -> dict:
        return {"error": {"code": "", "message": "An error has occurred.", "innererror": {
            "message": exc.message, "type": exc.kind or ODATA_EXCEPTION, "stacktrace": ""}}}

    def trace_headers(self) -> dict[str, str]:
        return {"ms-dyn-aid": str(uuid.uuid4())}

    def _route(self, request: Request) -> Response:
        if request.path != "/data" and not request.path.startswith(("/data/", "/Metadata/")):
            raise NotFound(f"No HTTP resource was found that matches the request URI '{request.origin}{request.path}'.")
        self.authority.verify(request.headers.get("Authorization"), audience=request.origin)
        if request.method == "GET" and (answer := read_route(request, self.store)) is not None:
            return answer
        if request.path.startswith("/Metadata/"):
            raise NotFound(f"No HTTP resource was found that matches the request URI '{request.origin}{request.path}'.")
        api_root = f"{request.origin}/data/"
        segment = request.path[len("/data/"):]
        if segment == "":
            if request.method != "GET":
                raise MethodNotAllowed("The requested resource does not support this HTTP method.")
            return Response.json(200, {"@odata.context": f"{api_root}$metadata", "value": [
                {"name": name, "kind": "EntitySet", "url": name} for name in FNO_ENTITY_SETS]})
        if segment == "$batch":
            return self.batch(request, "/data/")
        resource = parse_resource(segment)
        entity = FNO_ENTITY_SETS.get(resource.entity_set) if resource else None
        if entity is None:
            raise NotFound(f"Resource not found for the segment '{segment.split('(')[0]}'.")
        handlers = {
            (False, "GET"): lambda: get_collection(self.store, entity, request, api_root, self.page_size, self.read_ahead),
            (False, "POST"): lambda: self.writes.create(entity, request, api_root),
            (True, "GET"): lambda: get_single(self.store, entity, resource.key, request, api_root),
            (True, "PATCH"): lambda: self.writes.update(entity, resource.key, request),
            (True, "PUT"): lambda: self.writes.update(entity, resource.key, request),
            (True, "DELETE"): lambda: self.writes.delete(entity, resource.key, request),
        }
        handler = handlers.get((resource.key is not None, request.method))
        if handler is None:
            raise MethodNotAllowed(f"The requested resource does not support http method '{request.method}'.")
        return handler()
