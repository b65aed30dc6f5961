"""F&O writes: POST creates, PATCH updates (no upsert), DELETE; ETags from RecVersion (protocols.md 2.3)."""

import json

from sqlglot import exp

from emulate.catalog import COMPANIES, DEFAULT_COMPANY
from emulate.errors import BadRequest, PreconditionFailed
from emulate.fno import rules
from emulate.fno.reads import ODATA_EXCEPTION, RULES, etag, key_condition, single_json
from emulate.odata.keys import KeyValue, format_key
from emulate.odata.payload import coerce
from emulate.odata.query import column_ref
from emulate.schema import Column, EntitySet
from emulate.server import Request, Response
from emulate.store import Cursor, Store, literal, sql

WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
# The innererror type of the "no resources" answer is not documented anywhere we could read.
UPDATE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataException"
RECID_SEQUENCE, RECVERSION_SEQUENCE = "fno_recid", "fno_recversion"


class FnoWrites:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(self, entity: EntitySet, request: Request, api_root: str) -> Response:
        values = {column.name: _default(entity, column) for column in entity.served}
        values.update(self._payload(entity, request))
        values["dataAreaId"] = (values["dataAreaId"] or DEFAULT_COMPANY).lower()
        if values["dataAreaId"] not in COMPANIES:
            raise self._write_failed(entity, f"Company '{values['dataAreaId']}' does not exist.")
        with self.store.writing() as cur:
            rules.assign_document_number(cur, entity, values)
            for name in entity.required:
                if not values[name]:
                    raise self._write_failed(entity, f"Field '{entity.column(name).label}' must be filled in.")
            key = {name: values[name] for name in entity.key}
            exists = cur.execute(sql(exp.select(exp.Literal.number(1)).from_(exp.to_table(entity.table, quoted=True))
                                     .where(_key_where(entity, key)))).fetchone()
            if exists:
                described = ", ".join(f"{entity.column(name).label}: {values[name]}" for name in entity.key if name != "dataAreaId")
                raise self._write_failed(entity, f"Cannot create a record in {entity.table_label}. {described}. The record already exists.")
            rules.before_create(cur, entity, values)
            values["RecId"] = Store.next_value(cur, RECID_SEQUENCE)
            values["RecVersion"] = Store.next_value(cur, RECVERSION_SEQUENCE)
            columns = list(entity.columns)
            cur.execute(sql(exp.insert(exp.values([tuple(literal(c, values[c.name]) for c in columns)]),
                                       exp.to_table(entity.table, quoted=True),
                                       columns=[exp.to_identifier(c.name, quoted=True) for c in columns])))
            rules.after_write(cur, entity, key)
        body = single_json(self.store, entity, _key_where(entity, key), _plain(request), api_root)
        location = f"{api_root}{entity.name}{format_key(key)}"
        return Response.raw_json(201, body, {"Location": location, "ETag": _etag_of(body)})

    def update(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        """PATCH merges the body into the row; PUT replaces it: what the body leaves out goes back to
        its blank value (OData 4.0 part 1, 11.4.3), and required fields must then still be filled in."""
        values = self._payload(entity, request)
        where = key_condition(entity, key, request)
        for name in entity.key:
            if name in values and str(values[name]).lower() != key[name].value.lower():
                raise BadRequest(f"The key property '{name}' cannot be changed.", kind=ODATA_EXCEPTION)
            values.pop(name, None)
        if request.method == "PUT":
            values = {column.name: _default(entity, column) for column in entity.served
                      if column.name not in entity.key and not column.read_only} | values
            for name in entity.required:
                if name not in entity.key and not values[name]:
                    raise self._write_failed(entity, f"Field '{entity.column(name).label}' must be filled in.")
        with self.store.writing() as cur:
            self._check_version(cur, entity, where, request)
            plain_key = {name: part.value for name, part in key.items()}
            rules.before_update(cur, entity, plain_key, values)
            values["RecVersion"] = Store.next_value(cur, RECVERSION_SEQUENCE)
            assignments = {exp.to_identifier(name, quoted=True): literal(entity.stored_column(name), value) for name, value in values.items()}
            cur.execute(sql(exp.update(exp.to_table(entity.table, quoted=True), assignments, where=where)))
            rules.after_write(cur, entity, plain_key)
        return Response(204)

    def delete(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        where = key_condition(entity, key, request)
        with self.store.writing() as cur:
            self._check_version(cur, entity, where, request)
            cur.execute(sql(exp.delete(exp.to_table(entity.table, quoted=True), where=where)))
        return Response(204)

    # -- helpers --------------------------------------------------------------------
    def _payload(self, entity: EntitySet, request: Request) -> dict:
        body = request.json()
        if not isinstance(body, dict):
            raise BadRequest("The request body must be a JSON object.", kind=ODATA_EXCEPTION)
        values = {}
        for name, value in body.items():
            if name.startswith("@") or "@" in name:
                continue
            column = entity.column(name)
            if column is None:
                raise BadRequest(f"The property '{name}' does not exist on type '{entity.type_name}'. Make sure to only use property names that are defined by the type.", kind=ODATA_EXCEPTION)
            values[name] = coerce(column, value, entity, RULES)
        return values

    def _check_version(self, cur: Cursor, entity: EntitySet, where: exp.Expression, request: Request) -> None:
        row = cur.execute(sql(exp.select(etag(entity)).from_(exp.to_table(entity.table, quoted=True)).where(where))).fetchone()
        if row is None:
            raise BadRequest("No resources were found when selecting for update.", kind=UPDATE_EXCEPTION)
        if_match = (request.headers.get("If-Match") or "*").strip()
        if if_match != "*" and if_match != row[0]:
            raise PreconditionFailed("The ETag value in the request header does not match with the current ETag value of the object.", kind=ODATA_EXCEPTION)

    @staticmethod
    def _write_failed(entity: EntitySet, infolog: str) -> BadRequest:
        return BadRequest(f"Write failed for table row of type '{entity.entity_class}'. Infolog: Error: {infolog}", kind=WRITE_EXCEPTION)


_BLANKS = {"string": "", "datetime": "1900-01-01T12:00:00Z", "date": "1900-01-01", "bool": False}


def _default(entity: EntitySet, column: Column) -> object:
    """Blank values as F&O stores them: '', 0, the 1900-01-01 "no date", the first enum member."""
    if column.type == "enum":
        return entity.enums[column.enum][0]
    return _BLANKS.get(column.type, 0)


def _key_where(entity: EntitySet, key: dict[str, object]) -> exp.Expression:
    """The row with these key values; string keys compare case-insensitively, as SQL Server does."""
    def same(name: str, value: object) -> exp.Expression:
        column = entity.column(name)
        if column.type in ("string", "enum"):
            return exp.EQ(this=exp.Lower(this=column_ref(column)), expression=exp.Lower(this=exp.Literal.string(str(value))))
        return exp.EQ(this=column_ref(column), expression=literal(column, value))
    return exp.and_(*(same(name, value) for name, value in key.items()))


def _plain(request: Request) -> Request:
    """The request without `$select`, so a created entity is returned whole."""
    return Request(request.method, request.path, "", request.headers, b"", request.origin)


def _etag_of(body: str) -> str:
    return json.loads(body)["@odata.etag"]
