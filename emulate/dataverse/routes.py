"""GET routes of the Web API besides entity sets: `$metadata`, `EntityDefinitions`, `WhoAmI`, `<set>/$count`,
`RetrieveTotalRecordCount(...)`."""

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.changes import ChangeTracking
from emulate.dataverse.identity import who_am_i
from emulate.dataverse.reads import get_count
from emulate.dataverse.record_counts import is_record_count_call, retrieve_total_record_count
from emulate.metadata.csdl import dataverse_csdl
from emulate.metadata.entity_definitions import entity_definitions
from emulate.server import Request, Response
from emulate.store import Store


def read_route(segment: str, request: Request, api_root: str, store: Store, changes: ChangeTracking,
               tenant_id: str, client_id: str) -> Response | None:
    """The answer to a GET on one of these resources, or None when `segment` names none of them."""
    if segment == "$metadata":
        annotations = (request.param("annotations") or "").lower() == "true"
        return Response(200, dataverse_csdl(SALES_ENTITY_SETS.values(), annotations), {"Content-Type": "application/xml"})
    if segment in ("WhoAmI", "WhoAmI()"):
        return who_am_i(tenant_id, client_id, api_root)
    if is_record_count_call(segment):
        return retrieve_total_record_count(segment, request, api_root, store)
    if segment.startswith("EntityDefinitions"):
        return entity_definitions(segment, request, api_root)
    name, _, rest = segment.partition("/")
    if rest == "$count" and name in SALES_ENTITY_SETS:
        return get_count(store, SALES_ENTITY_SETS[name], request, changes)
    return None
