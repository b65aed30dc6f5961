"""Dataverse writes: create, update/upsert, delete, with ETags (protocols.md 1.5)."""

import datetime as dt
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit

from sqlglot import exp

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse import rules
from emulate.dataverse.paging import parse_prefer
from emulate.dataverse.reads import RULES, key_condition, logical_name, missing, single_json
from emulate.errors import BadRequest, PreconditionFailed
from emulate.odata.keys import KeyValue, format_key, parse_resource
from emulate.odata.payload import coerce
from emulate.odata.query import column_ref
from emulate.schema import EntitySet
from emulate.server import Request, Response
from emulate.store import Cursor, Store, literal, sql

VERSION_SEQUENCE = "sales_versionnumber"


class DataverseWrites:
    """Creates, updates and deletes rows the way the Web API does."""

    def __init__(self, store: Store, seed: int, clock: Callable[[], dt.datetime]) -> None:
        self.store, self.seed, self.clock = store, seed, clock

    def create(self, entity: EntitySet, request: Request, api_root: str) -> Response:
        values = self._payload(entity, request)
        key_name = entity.key[0]
        values[key_name] = values.get(key_name) or str(uuid.uuid4())
        with self.store.writing() as cur:
            if _exists(cur, entity, _by_id(entity, values[key_name])):
                raise PreconditionFailed("A record with matching key values already exists.", code="0x80040237")
            self._insert(cur, entity, values)
        location = f"{api_root}{entity.name}({values[key_name]})"
        return self._answer(entity, request, api_root, values[key_name], created=True, entity_id=location)

    def upsert(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request, api_root: str) -> Response:
        values = self._payload(entity, request)
        if_match, if_none_match = request.headers.get("If-Match"), request.headers.get("If-None-Match")
        where = key_condition(entity, key)
        key_name = entity.key[0]
        with self.store.writing() as cur:
            current = cur.execute(sql(exp.select(exp.cast(column_ref(entity.column(key_name)), "VARCHAR"),
                                                 column_ref(entity.column("versionnumber")))
                                      .from_(exp.to_table(entity.table, quoted=True)).where(where))).fetchone()
            if current is None:
                if if_match:
                    raise missing(entity, key)
                if None in key:
                    values[key_name] = key[None].value
                else:  # an alternate key: its values come from the URL
                    values.update({name: part.value for name, part in key.items()})
                    values[key_name] = values.get(key_name) or str(uuid.uuid4())
                self._insert(cur, entity, values)
                row_id, created = values[key_name], True
            else:
                row_id, version = current
                if if_none_match == "*":
                    raise PreconditionFailed("A record with matching key values already exists.", code="0x80040237")
                if if_match and if_match.strip() != "*" and if_match.strip() != f'W/"{version}"':
                    raise PreconditionFailed("The version of the existing record doesn't match the RowVersion property provided.", code="0x80060882")
                for name in (key_name, *(name for name in key if name)):
                    values.pop(name, None)  # key values in the body are ignored on update
                self._update(cur, entity, row_id, values)
                created = False
        url_key = f"({row_id})" if None in key else format_key({n: v.value for n, v in key.items()})
        return self._answer(entity, request, api_root, row_id, created=created, entity_id=f"{api_root}{entity.name}{url_key}")

    def delete(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        where = key_condition(entity, key)
        with self.store.writing() as cur:
            current = cur.execute(sql(exp.select(column_ref(entity.column("versionnumber")),
                                                 exp.cast(column_ref(entity.column(entity.key[0])), "VARCHAR"))
                                      .from_(exp.to_table(entity.table, quoted=True)).where(where))).fetchone()
            if current is None:
                raise missing(entity, key)
            if_match = (request.headers.get("If-Match") or "*").strip()
            if if_match != "*" and if_match != f'W/"{current[0]}"':
                raise PreconditionFailed("The version of the existing record doesn't match the RowVersion property provided.", code="0x80060882")
            rules.before_delete(cur, entity, current[1], self._rules())
            cur.execute(sql(exp.delete(exp.to_table(entity.table, quoted=True), where=where)))
        return Response(204)

    def edit(self, entity: EntitySet, row_id: str, values: dict) -> None:
        """Change columns of one row as a user in the app would (new modifiedon and version)."""
        with self.store.writing() as cur:
            self._update(cur, entity, row_id, dict(values))

    # -- helpers --------------------------------------------------------------------
    def _payload(self, entity: EntitySet, request: Request) -> dict:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", code="0x80048d19")
        values: dict = {}
        for name, value in body.items():
            if name.endswith("@odata.bind"):
                lookup = entity.lookups.get(name.removesuffix("@odata.bind"))
                if lookup is None:
                    raise BadRequest(f"An undeclared property '{name.removesuffix('@odata.bind')}' which only has property annotations in the payload but no property value was found in the payload.", code="0x80060888")
                values[lookup.name] = None if value is None else self._bound_id(lookup.lookup.target, value)
                continue
            if name.startswith("@") or "@" in name:
                continue
            column = entity.column(name)
            if column is None or column.lookup:
                raise BadRequest(f"Invalid property '{name}' was found in entity '{entity.type_name}'.", code="0x80060888")
            if column.read_only:
                continue
            values[name] = coerce(column, value, entity, RULES)
            if column.max_length and isinstance(value, str) and len(value) > column.max_length:
                raise BadRequest(f"A validation error occurred. The length of the '{name}' attribute of the '{logical_name(entity)}' entity exceeded the maximum allowed length of '{column.max_length}'.", code="0x80044331")
        return values

    def _bound_id(self, target_name: str, reference: object) -> str:
        """The id behind `/transactioncurrencies(<guid>)` (relative or absolute)."""
        path = urlsplit(str(reference)).path if str(reference).startswith("https://") else str(reference)
        segment = path.rsplit("/", 1)[-1]
        resource = parse_resource(segment)
        target = SALES_ENTITY_SETS.get(resource.entity_set) if resource else None
        if target is None or target.name != target_name or resource.key is None:
            raise BadRequest(f"Invalid @odata.bind value '{reference}'.", code="0x80060888")
        with self.store.reading() as cur:
            row = cur.execute(sql(exp.select(exp.cast(column_ref(target.column(target.key[0])), "VARCHAR"))
                                  .from_(exp.to_table(target.table, quoted=True))
                                  .where(key_condition(target, resource.key)))).fetchone()
        if row is None:
            raise missing(target, resource.key)
        return row[0]

    def _stamp(self, cur: Cursor, values: dict) -> None:
        values["modifiedon"] = self.clock().replace(microsecond=0)
        values["versionnumber"] = Store.next_value(cur, VERSION_SEQUENCE)

    def _check_alternate_keys(self, cur: Cursor, entity: EntitySet, row_id: str, values: dict) -> None:
        for key in entity.alternate_keys:
            if not all(values.get(name) for name in key):
                continue
            same = exp.and_(*(exp.EQ(this=exp.Lower(this=column_ref(entity.column(n))), expression=exp.Lower(this=exp.Literal.string(values[n]))) for n in key))
            other = exp.NEQ(this=column_ref(entity.column(entity.key[0])), expression=literal(entity.column(entity.key[0]), row_id))
            if _exists(cur, entity, exp.and_(same, other)):
                names = ", ".join(key)
                raise PreconditionFailed(f"A record that has the attribute values {names} already exists. The entity key {names} requires that this set of attributes contains unique values.", code="0x80040237")

    def _rules(self) -> rules.RuleContext:
        return rules.RuleContext(self.seed, self.clock())

    def _insert(self, cur: Cursor, entity: EntitySet, values: dict) -> None:
        rules.before_create(cur, entity, values, self._rules())
        values.setdefault("statecode", 0)
        if entity.column("statuscode"):
            values.setdefault("statuscode", 1)
        self._stamp(cur, values)
        if entity.column("createdon"):
            values["createdon"] = values["modifiedon"]
        self._check_alternate_keys(cur, entity, values[entity.key[0]], values)
        columns = [entity.column(name) for name in values]
        cur.execute(sql(exp.insert(exp.values([tuple(literal(c, values[c.name]) for c in columns)]),
                                   exp.to_table(entity.table, quoted=True), columns=[exp.to_identifier(c.name, quoted=True) for c in columns])))
        rules.after_write(cur, entity, values[entity.key[0]], self._rules())

    def _update(self, cur: Cursor, entity: EntitySet, row_id: str, values: dict) -> None:
        rules.before_update(cur, entity, row_id, values, self._rules())
        self._check_alternate_keys(cur, entity, row_id, values)
        self._stamp(cur, values)
        assignments = {exp.to_identifier(name, quoted=True): literal(entity.column(name), value) for name, value in values.items()}
        cur.execute(sql(exp.update(exp.to_table(entity.table, quoted=True), assignments, where=_by_id(entity, row_id))))
        rules.after_write(cur, entity, row_id, self._rules())

    def _answer(self, entity: EntitySet, request: Request, api_root: str, row_id: str, *, created: bool, entity_id: str) -> Response:
        if parse_prefer(request.header_values("Prefer")).get("return") == "representation":
            body = single_json(self.store, entity, _by_id(entity, row_id), request, api_root)
            return Response.raw_json(201 if created else 200, body, {"Preference-Applied": "return=representation"})
        return Response(204, headers={"OData-EntityId": entity_id})


def _by_id(entity: EntitySet, row_id: str) -> exp.Expression:
    key = entity.column(entity.key[0])
    return exp.EQ(this=column_ref(key), expression=literal(key, row_id))


def _exists(cur: Cursor, entity: EntitySet, where: exp.Expression) -> bool:
    query = exp.select(exp.Literal.number(1)).from_(exp.to_table(entity.table, quoted=True)).where(where).limit(1)
    return cur.execute(sql(query)).fetchone() is not None
