"""Dataverse bulk actions: CreateMultiple, UpdateMultiple, UpsertMultiple, BulkDelete (protocols.md 1.5).

`POST <set>/Microsoft.Dynamics.CRM.<Action>` with `{"Targets": [...]}`; each target is
an entity of the set's type (`@odata.type`), run through the same row-level writes and
rules hooks as single requests, all in one transaction (any failure rolls back all).
UpsertMultiple targets name their row by `@odata.id` (`accounts(accountnumber='A')`)
or by the primary key in the target.
"""

import uuid

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.reads import logical_name
from emulate.dataverse.values import entity_reference, payload_values
from emulate.dataverse.writes import DataverseWrites
from emulate.errors import BadRequest, NotFound
from emulate.odata.keys import KeyValue
from emulate.schema import EntitySet
from emulate.server import Request, Response

_NAMESPACE = "Microsoft.Dynamics.CRM."
_ACTIONS = ("CreateMultiple", "UpdateMultiple", "UpsertMultiple")


def parse_bulk_action(segment: str) -> tuple[str, str] | None:
    """(entity set, action) for `accounts/Microsoft.Dynamics.CRM.CreateMultiple`; ("", "BulkDelete") for `BulkDelete`."""
    if segment == "BulkDelete":
        return "", "BulkDelete"
    entity_set, _, action = segment.partition("/")
    action = action.removeprefix(_NAMESPACE)
    return (entity_set, action) if action in _ACTIONS else None


class BulkActions:
    def __init__(self, writes: DataverseWrites) -> None:
        self.writes = writes
        self.store = writes.store

    def __call__(self, action: tuple[str, str], request: Request, api_root: str) -> Response:
        entity_set, name = action
        if name == "BulkDelete":
            return self._bulk_delete(request, api_root)
        entity = SALES_ENTITY_SETS.get(entity_set)
        if entity is None:
            raise NotFound(f"Resource not found for the segment '{entity_set}'.", code="0x8006088a")
        targets = self._targets(entity, request)
        with self.store.writing():
            if name == "CreateMultiple":
                ids = [self.writes.create_row(entity, payload_values(self.store, entity, t)) for t in targets]
            elif name == "UpdateMultiple":
                for target in targets:
                    self.writes.upsert_row(entity, self._target_key(entity, target, by_reference=False),
                                           payload_values(self.store, entity, target), if_match="*")
                return Response(204)
            else:
                ids = [self._upsert(entity, target) for target in targets]
        return Response.json(200, {"@odata.context": f"{api_root}$metadata#{_NAMESPACE}{name}Response", "Ids": ids})

    def _upsert(self, entity: EntitySet, target: dict) -> str:
        """One UpsertMultiple target. A create whose alternate-key columns are in both `@odata.id` and the body
        fails on the real service (PowerPlatform-DataverseClient-Python PR #127: 400, 0x80040216); an update
        ignores them."""
        key = self._target_key(entity, target, by_reference=True)
        if None not in key and set(key) & set(target) and not self.writes.exists(entity, key):
            raise BadRequest("An unexpected error occurred.", code="0x80040216")
        return self.writes.upsert_row(entity, key, payload_values(self.store, entity, target))[0]

    def _targets(self, entity: EntitySet, request: Request) -> list[dict]:
        body = request.json()
        targets = body.get("Targets") if isinstance(body, dict) else None
        if not isinstance(targets, list) or not targets:
            raise BadRequest("The parameter 'Targets' must be a non-empty collection of entities.", code="0x80040203")
        expected = f"{_NAMESPACE}{logical_name(entity)}"
        for target in targets:
            if not isinstance(target, dict):
                raise BadRequest("Each item of 'Targets' must be an entity.", code="0x80040203")
            declared = str(target.get("@odata.type", expected)).lstrip("#")
            if declared != expected:
                raise BadRequest(f"The entity type '{declared}' of a target does not match the entity set '{entity.name}' ({expected}).", code="0x80040203")
        return targets

    @staticmethod
    def _target_key(entity: EntitySet, target: dict, *, by_reference: bool) -> dict[str | None, KeyValue]:
        """The row a target names: its `@odata.id` (upserts) or its primary key value."""
        if by_reference and "@odata.id" in target:
            named = entity_reference(target["@odata.id"])
            if named is None or named[0] is not entity:
                raise BadRequest(f"Invalid @odata.id value '{target['@odata.id']}'.", code="0x80060888")
            return named[1]
        key_value = target.get(entity.key[0])
        if not key_value:
            raise BadRequest(f"A target of {'UpsertMultiple' if by_reference else 'UpdateMultiple'} must carry its key ('{entity.key[0]}'"
                             + (" or '@odata.id'" if by_reference else "") + ").", code="0x80040203")
        return {None: KeyValue(str(key_value), False)}

    # -- BulkDelete -------------------------------------------------------------------
    def _bulk_delete(self, request: Request, api_root: str) -> Response:
        """BulkDelete by primary key (`In`/`Equal` conditions, as the Python SDK sends it).

        The real service queues an asynchronous job; the emulator deletes at once and
        answers with the job id, so a client polling nothing sees the same outcome.
        """
        body = request.json()
        query_set = body.get("QuerySet") if isinstance(body, dict) else None
        if not isinstance(query_set, list) or not query_set:
            raise BadRequest("The parameter 'QuerySet' must be a non-empty collection of queries.", code="0x80040203")
        with self.store.writing():
            for query in query_set:
                entity, ids = self._delete_targets(query)
                for row_id in ids:
                    try:
                        self.writes.delete_row(entity, {None: KeyValue(row_id, False)})
                    except NotFound:
                        continue  # a row already gone is skipped, as a bulk delete job does
        return Response.json(200, {"@odata.context": f"{api_root}$metadata#{_NAMESPACE}BulkDeleteResponse", "JobId": str(uuid.uuid4())})

    @staticmethod
    def _delete_targets(query: dict) -> tuple[EntitySet, list[str]]:
        name = query.get("EntityName") if isinstance(query, dict) else None
        entity = next((e for e in SALES_ENTITY_SETS.values() if logical_name(e) == name), None)
        if entity is None:
            raise BadRequest(f"The entity with a name = '{name}' was not found in the MetadataCache.", code="0x80040217")
        ids: list[str] = []
        for condition in (query.get("Criteria") or {}).get("Conditions") or []:
            if condition.get("AttributeName") != entity.key[0] or condition.get("Operator") not in ("In", "Equal"):
                raise BadRequest("The emulated BulkDelete accepts only In/Equal conditions on the primary key.", code="0x80040203")
            ids += [str(value.get("Value") if isinstance(value, dict) else value) for value in condition.get("Values") or []]
        return entity, ids
