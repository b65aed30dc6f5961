"""F&O writes: POST creates, PATCH updates (no upsert), DELETE; ETags from RecVersion (protocols.md 2.3)."""

import json

from sqlglot import exp

from emulate.catalog import COMPANIES, DEFAULT_COMPANY
from emulate.errors import BadRequest, PreconditionFailed
from emulate.fno import rules
from emulate.fno.reads import ODATA_EXCEPTION, RULES, _fields, company_scope, cross_company, etag, key_condition
from emulate.odata.keys import KeyValue, format_key
from emulate.odata.payload import coerce
from emulate.odata.query import ROW, column_ref, context_suffix, json_object
from emulate.schema import Column, EntitySet
from emulate.server import Request, Response
from emulate.store import Cursor, Store, parameter, placeholder, prepared

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
            exists = cur.execute(prepared(("fno exists", entity.table), lambda: exp.select(exp.Literal.number(1))
                                          .from_(exp.to_table(entity.table, quoted=True)).where(_key_template(entity))),
                                 _key_parameters(entity, key)).fetchone()
            if exists:
                described = ", ".join(f"{entity.column(name).label}: {values[name]}" for name in entity.key if name != "dataAreaId")
                raise self._write_failed(entity, f"Cannot create a record in {entity.table_label}. {described}. The record already exists.")
            rules.before_create(cur, entity, values)
            columns = [c for c in entity.columns if c.name not in _NUMBERED]  # RecId and RecVersion: the statement takes them
            cur.execute(prepared(("fno insert", entity.table), lambda: _insert(entity, columns)),
                        [parameter(c, values[c.name]) for c in columns])
            rules.after_write(cur, entity, key)
            body = self._created_json(cur, entity, key, request, api_root)
        location = f"{api_root}{entity.name}{format_key(key)}"
        return Response.raw_json(201, body, {"Location": location, "ETag": _etag_of(body)})

    def update(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        """PATCH merges the body into the row; PUT replaces it: what the body leaves out goes back to
        its blank value (OData 4.0 part 1, 11.4.3), and required fields must then still be filled in."""
        values = self._payload(entity, request)
        where = _Visible(entity, key, request)
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
            values.pop("RecVersion", None)  # the statement takes a new one
            columns = [entity.stored_column(name) for name in values]
            def update() -> exp.Update:
                assignments = {exp.to_identifier(c.name, quoted=True): placeholder(c) for c in columns}
                assignments[exp.to_identifier("RecVersion", quoted=True)] = exp.func("nextval", exp.Literal.string(RECVERSION_SEQUENCE))
                return exp.update(exp.to_table(entity.table, quoted=True), assignments, where=where.template())
            cur.execute(prepared(("fno update", entity.table, where.cross, tuple(values)), update),
                        [*(parameter(c, values[c.name]) for c in columns), *where.parameters])
            rules.after_write(cur, entity, plain_key)
        return Response(204)

    def delete(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        where = _Visible(entity, key, request)
        with self.store.writing() as cur:
            self._check_version(cur, entity, where, request)
            cur.execute(prepared(("fno delete", entity.table, where.cross),
                                 lambda: exp.delete(exp.to_table(entity.table, quoted=True), where=where.template())), where.parameters)
        return Response(204)

    # -- helpers --------------------------------------------------------------------
    @staticmethod
    def _created_json(cur: Cursor, entity: EntitySet, key: dict[str, object], request: Request, api_root: str) -> str:
        """The created row, whole, as `GET <set>(<key>)` serves it (single_json's answer, from a statement prepared once).

        The key values are the ones just stored, so they match exactly: an index lookup of one row, where
        `page_select` would scan lower-cased keys and join the whole table to its page."""
        columns = [entity.column(name) for name in entity.key]
        def query() -> exp.Select:
            _, _, fields = _fields(entity, _plain(request))
            exact = exp.and_(*(exp.EQ(this=column_ref(c), expression=placeholder(c)) for c in columns))
            served = exp.alias_(exp.to_table(entity.table, quoted=True), ROW, table=True, quoted=True)
            return exp.select(exp.cast(json_object(fields), "VARCHAR")).from_(served).where(exact)
        row = cur.execute(prepared(("fno created", entity.table), query), [parameter(c, key[c.name]) for c in columns]).fetchone()
        context = f"{api_root}$metadata#{context_suffix(entity, None, None)}/$entity"
        return '{"@odata.context":' + json.dumps(context) + "," + row[0][1:]

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

    def _check_version(self, cur: Cursor, entity: EntitySet, where: "_Visible", request: Request) -> None:
        row = cur.execute(prepared(("fno etag", entity.table, where.cross), lambda: exp.select(etag(entity))
                                   .from_(exp.to_table(entity.table, quoted=True)).where(where.template())), where.parameters).fetchone()
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


_NUMBERED = {"RecId": RECID_SEQUENCE, "RecVersion": RECVERSION_SEQUENCE}


def _insert(entity: EntitySet, columns: list[Column]) -> exp.Insert:
    """`INSERT` of a whole row: `?` for `columns`, RecId and RecVersion from their sequences."""
    row = [*(placeholder(c) for c in columns), *(exp.func("nextval", exp.Literal.string(s)) for s in _NUMBERED.values())]
    names = [*(c.name for c in columns), *_NUMBERED]
    return exp.insert(exp.values([tuple(row)]), exp.to_table(entity.table, quoted=True),
                      columns=[exp.to_identifier(name, quoted=True) for name in names])


def _key_template(entity: EntitySet) -> exp.Expression:
    """The row with the key values bound by `_key_parameters`; string keys compare case-insensitively, as SQL Server does."""
    def same(column: Column) -> exp.Expression:
        if column.type in ("string", "enum"):
            return exp.EQ(this=exp.Lower(this=column_ref(column)), expression=exp.Lower(this=exp.Placeholder()))
        return exp.EQ(this=column_ref(column), expression=placeholder(column))
    return exp.and_(*(same(entity.column(name)) for name in entity.key))


class _Visible:
    """`key_condition` (the row a URL key names, within the visible companies) as a prepared template and its values."""

    def __init__(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> None:
        key_condition(entity, key, request)  # refuses a wrong key as a GET does
        self.entity, self.request, self.cross = entity, request, cross_company(request)
        self.parameters = _key_parameters(entity, {name: part.value for name, part in key.items()})

    def template(self) -> exp.Expression:
        scope = company_scope(self.request)
        return exp.and_(_key_template(self.entity), *([scope] if scope is not None else []))


def _key_parameters(entity: EntitySet, key: dict[str, object]) -> list[object]:
    return [str(key[name]) if entity.column(name).type in ("string", "enum") else parameter(entity.column(name), key[name])
            for name in entity.key]


def _plain(request: Request) -> Request:
    """The request without `$select`, so a created entity is returned whole."""
    return Request(request.method, request.path, "", request.headers, b"", request.origin)


def _etag_of(body: str) -> str:
    return json.loads(body)["@odata.etag"]
