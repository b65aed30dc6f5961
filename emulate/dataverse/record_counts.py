"""`RetrieveTotalRecordCount`: each named table's record count, from a periodically refreshed snapshot.

    GET /api/data/v9.2/RetrieveTotalRecordCount(EntityNames=['account','contact'])
    GET /api/data/v9.2/RetrieveTotalRecordCount(EntityNames=@p1)?@p1=["account","contact"]

answers

    {"@odata.context": ".../$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
     "EntityRecordCountCollection": {"Count": 2, "IsReadOnly": false,
                                     "Keys": ["account", "contact"], "Values": [19, 3]}}

(Web API reference: RetrieveTotalRecordCount function, RetrieveTotalRecordCountResponse and
EntityRecordCountCollection complex types.) The names are logical names. The counts are not
live: the platform keeps a snapshot it refreshes periodically ("within the last 24 hours"), so
rows written since the snapshot do not show; here the snapshot is taken at the first ask and
refreshed once it is older than ``SNAPSHOT_MAX_AGE_S``. A name the metadata does not know is
refused as the platform refuses an unknown logical name (0x80041102, 404).
"""

import json
import re
import threading
import time
import weakref
from dataclasses import dataclass

from emulate.catalog import SALES_ENTITY_SETS
from emulate.errors import BadRequest, NotFound
from emulate.metadata.dataverse import logical_name
from emulate.odata.query import count_select
from emulate.server import Request, Response
from emulate.store import Store, sql

FUNCTION = "RetrieveTotalRecordCount"
SNAPSHOT_MAX_AGE_S = 3600.0  # how stale a count may be here (the platform's is up to a day old)
ENTITY_NOT_FOUND = "0x80041102"
_CALL = re.compile(FUNCTION + r"\(\s*EntityNames\s*=\s*(?P<argument>.*)\)", re.DOTALL)
_QUOTED = re.compile(r"'((?:[^']|'')*)'")


@dataclass(frozen=True)
class _Snapshot:
    taken: float
    counts: dict[str, int]  # logical name -> rows


_SNAPSHOTS: "weakref.WeakKeyDictionary[Store, _Snapshot]" = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def is_record_count_call(segment: str) -> bool:
    return segment.startswith(FUNCTION + "(")


def retrieve_total_record_count(segment: str, request: Request, api_root: str, store: Store) -> Response:
    """Answer the function for the logical names ``segment`` (or its parameter alias) names."""
    names = entity_names(segment, request)
    known = {logical_name(e) for e in SALES_ENTITY_SETS.values()}
    for name in names:
        if name not in known:
            raise NotFound(f"The entity with a name = '{name}' with namemapping = 'Logical' was not found in the "
                           "MetadataCache.", code=ENTITY_NOT_FOUND)
    counts = _snapshot(store).counts
    return Response.json(200, {
        "@odata.context": f"{api_root}$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
        "EntityRecordCountCollection": {"Count": len(names), "IsReadOnly": False, "Keys": names,
                                        "Values": [counts[name] for name in names]},
    })


def entity_names(segment: str, request: Request) -> list[str]:
    """The ``EntityNames`` collection: inline (``['a','b']``, or JSON ``["a","b"]``) or through an ``@alias``."""
    match = _CALL.fullmatch(segment)
    if match is None:
        raise BadRequest(f"{FUNCTION} needs its EntityNames parameter: {FUNCTION}(EntityNames=['account'])",
                         code="0x80060888")
    argument = match.group("argument").strip()
    if argument.startswith("@"):
        aliased = request.param(argument)
        if aliased is None:
            raise BadRequest(f"The parameter alias '{argument}' has no value in the query string.", code="0x80060888")
        argument = aliased.strip()
    return _collection(argument)


def _collection(text: str) -> list[str]:
    """A collection of strings written as an OData literal (single quotes) or as JSON (double quotes)."""
    if not (text.startswith("[") and text.endswith("]")):
        raise BadRequest(f"EntityNames must be a collection of strings, not {text!r}.", code="0x80060888")
    inner = text[1:-1].strip()
    if '"' in inner:
        try:
            names = json.loads(text)
        except ValueError:
            names = None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise BadRequest(f"EntityNames must be a collection of strings, not {text!r}.", code="0x80060888")
        return names
    items = _QUOTED.split(inner) if inner else [""]
    names = [item.replace("''", "'") for item in items[1::2]]
    separators = [item.strip() for item in items[0::2]]
    if separators[0] or separators[-1] or any(s != "," for s in separators[1:-1]):
        raise BadRequest(f"EntityNames must be a collection of strings, not {text!r}.", code="0x80060888")
    return names


def _snapshot(store: Store) -> _Snapshot:
    """The counts as of the last snapshot, taken again once it is older than ``SNAPSHOT_MAX_AGE_S``."""
    with _LOCK:
        current = _SNAPSHOTS.get(store)
        if current is None or time.monotonic() - current.taken > SNAPSHOT_MAX_AGE_S:
            current = _SNAPSHOTS[store] = _Snapshot(time.monotonic(), _count_all(store))
        return current


def _count_all(store: Store) -> dict[str, int]:
    with store.reading() as cur:
        return {logical_name(e): cur.execute(sql(count_select(e, None))).fetchone()[0] for e in SALES_ENTITY_SETS.values()}
