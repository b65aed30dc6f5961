"""GET routes of F&O besides entity sets: `/data/$metadata`, `/data/<Set>/$count` and the `/Metadata` service."""

from emulate.catalog import FNO_ENTITY_SETS
from emulate.fno.metadata_service import metadata_service
from emulate.fno.reads import get_count
from emulate.metadata.csdl import fno_csdl
from emulate.server import Request, Response
from emulate.store import Store


def read_route(request: Request, store: Store) -> Response | None:
    """The answer to a GET on one of these resources, or None when the path names none of them."""
    if request.path.startswith("/Metadata/"):
        return metadata_service(request)
    segment = request.path.removeprefix("/data/")
    if segment == "$metadata":
        return Response(200, fno_csdl(FNO_ENTITY_SETS.values()), {"Content-Type": "application/xml"})
    name, _, rest = segment.partition("/")
    if rest == "$count" and name in FNO_ENTITY_SETS:
        return get_count(store, FNO_ENTITY_SETS[name], request)
    return None
