"""Dataverse writes: create, update/upsert, delete, single properties, with ETags (protocols.md 1.5).

HTTP handlers parse the request and answer; the row-level methods (`create_row`,
`upsert_row`) are what bulk actions and batches share. Every write runs in a
`store.writing()` transaction, which joins the enclosing one of a change set or bulk
action, and calls the rules hooks. Row statements are built with sqlglot once per entity and
column set (`store.prepared`) and run with their values bound; the new version comes from the
sequence inside the INSERT/UPDATE itself.

A $batch's run of writes (`remember`) first reads, in one statement per entity, the rows its
URLs name and the rows holding the alternate-key values its bodies carry; while the
transaction knows them (`Transaction.memo`), looking a row up or checking an alternate key
asks no statement, and inserts are held back and sent together (`Transaction.insert`).
"""

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse import changes, rule_rows, rules
from emulate.dataverse.paging import parse_prefer
from emulate.dataverse.reads import key_condition, missing, single_json
from emulate.dataverse.values import bound_id, column_value, payload_values
from emulate.errors import BadRequest, NotFound, PreconditionFailed
from emulate.odata.keys import KeyValue, format_key, parse_resource
from emulate.odata.query import column_ref
from emulate.schema import EntitySet
from emulate.server import Request, Response
from emulate.store import Cursor, Store, Transaction, bulk_insert, bulk_update, literal, parameter, placeholder, prepared, sql

VERSION_SEQUENCE = "sales_versionnumber"
_PROPERTY_PATH = re.compile(r"(?P<resource>[A-Za-z_]\w*\(.*\))/(?P<name>[A-Za-z_]\w*)(?P<ref>/\$ref)?", re.DOTALL)
_MISMATCH = "The version of the existing record doesn't match the RowVersion property provided."


def parse_property_path(segment: str) -> tuple[str, str, bool] | None:
    """`accounts(<id>)/name` or `accounts(<id>)/nav/$ref` -> (resource, property, is_ref)."""
    match = _PROPERTY_PATH.fullmatch(segment)
    return (match.group("resource"), match.group("name"), bool(match.group("ref"))) if match else None


class DataverseWrites:
    """Creates, updates and deletes rows the way the Web API does."""

    def __init__(self, store: Store, seed: int, clock: Callable[[], dt.datetime]) -> None:
        self.store, self.seed, self.clock = store, seed, clock

    # -- HTTP ------------------------------------------------------------------------
    def create(self, entity: EntitySet, request: Request, api_root: str) -> Response:
        row_id = self.create_row(entity, payload_values(self.store, entity, request.json()))
        return self._answer(entity, request, api_root, row_id, created=True, entity_id=f"{api_root}{entity.name}({row_id})")

    def upsert(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request, api_root: str) -> Response:
        with self.store.writing():
            values = payload_values(self.store, entity, request.json())
            row_id, created = self.upsert_row(entity, key, values, if_match=request.headers.get("If-Match"),
                                              if_none_match=request.headers.get("If-None-Match"))
        url_key = f"({row_id})" if None in key else format_key({n: v.value for n, v in key.items()})
        return self._answer(entity, request, api_root, row_id, created=created, entity_id=f"{api_root}{entity.name}{url_key}")

    def delete(self, entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> Response:
        self.delete_row(entity, key, if_match=request.headers.get("If-Match"))
        return Response(204)

    def write_property(self, path: tuple[str, str, bool], request: Request) -> Response:
        """PUT or DELETE on `<set>(<key>)/<property>` or `<set>(<key>)/<navigation>/$ref`."""
        resource, name, is_ref = path
        target = resource_key(resource, SALES_ENTITY_SETS)
        if target is None:
            raise NotFound(f"Resource not found for the segment '{resource.split('(')[0]}'.", code="0x8006088a")
        entity, key = target
        if request.method == "PUT":
            return self.put_property(entity, key, name, is_ref, request)
        return self.delete_property(entity, key, name, is_ref, request)

    def put_property(self, entity: EntitySet, key: dict[str | None, KeyValue], name: str, is_ref: bool, request: Request) -> Response:
        """`PUT accounts(id)/name {"value": ...}` or `PUT accounts(id)/nav/$ref {"@odata.id": ...}`."""
        body = request.json()
        if not isinstance(body, dict) or ("@odata.id" if is_ref else "value") not in body:
            raise BadRequest("The request body must be a JSON object with a 'value' property." if not is_ref
                             else "The request body must be a JSON object with an '@odata.id' property.", code="0x80048d19")
        if is_ref:
            lookup = self._lookup(entity, name)
            values = {lookup.name: bound_id(self.store, lookup.lookup.target, body["@odata.id"])}
        else:
            values = {self._writable(entity, name): column_value(entity, name, body["value"])}
        self._change_existing(entity, key, values, request)
        return Response(204)

    def delete_property(self, entity: EntitySet, key: dict[str | None, KeyValue], name: str, is_ref: bool, request: Request) -> Response:
        """`DELETE accounts(id)/description` or `DELETE accounts(id)/nav/$ref`: the value becomes null."""
        column = self._lookup(entity, name).name if is_ref else self._writable(entity, name)
        self._change_existing(entity, key, {column: column_value(entity, column, None) if not is_ref else None}, request)
        return Response(204)

    def edit(self, entity: EntitySet, row_id: str, values: dict) -> None:
        """Change columns of one row as a user in the app would (new modifiedon and version)."""
        with self.store.writing() as cur:
            self._update(cur, entity, row_id, dict(values))

    # -- rows (shared with bulk actions and batches) ---------------------------------
    def create_row(self, entity: EntitySet, values: dict) -> str:
        """Insert one row from checked values; its primary key."""
        key_name = entity.key[0]
        chosen = bool(values.get(key_name))  # a key the client chose may be taken; a fresh uuid4 is not
        values[key_name] = values.get(key_name) or str(uuid.uuid4())
        with self.store.writing() as cur:
            if chosen and self._current(cur, entity, {None: KeyValue(str(values[key_name]), False)}) is not None:
                raise PreconditionFailed("A record with matching key values already exists.", code="0x80040237")
            self._insert(cur, entity, values)
        return values[key_name]

    def upsert_row(self, entity: EntitySet, key: dict[str | None, KeyValue], values: dict, *,
                   if_match: str | None = None, if_none_match: str | None = None) -> tuple[str, bool]:
        """Update the row `key` names, or create it (from the key's values); (primary key, created)."""
        key_name = entity.key[0]
        with self.store.writing() as cur:
            current = self._current(cur, entity, key)
            if current is None:
                if if_match:
                    raise missing(entity, key)
                if None in key:
                    values[key_name] = key[None].value
                else:  # an alternate key: values in the body win, the URL's fill the gaps (use-upsert-insert-update-record.md)
                    for name, part in key.items():
                        values.setdefault(name, part.value)
                    values[key_name] = values.get(key_name) or str(uuid.uuid4())
                self._insert(cur, entity, values)
                return values[key_name], True
            row_id, version = current
            if (if_none_match or "").strip() == "*":
                raise PreconditionFailed("A record with matching key values already exists.", code="0x80040237")
            _check_if_match(if_match, version)
            for name in (key_name, *(name for name in key if name)):
                values.pop(name, None)  # key values in the body are ignored on update
            self._update(cur, entity, row_id, values)
            return row_id, False

    def exists(self, entity: EntitySet, key: dict[str | None, KeyValue]) -> bool:
        """Whether the row `key` names is there."""
        with self.store.writing() as cur:
            return self._current(cur, entity, key) is not None

    def delete_row(self, entity: EntitySet, key: dict[str | None, KeyValue], *, if_match: str | None = None) -> None:
        """Delete the row `key` names; 404 if there is none, 412 if `if_match` is stale."""
        where = key_condition(entity, key)
        with self.store.writing() as cur:
            current = self._current(cur, entity, key)
            if current is None:
                raise missing(entity, key)
            _check_if_match(if_match, current[1])
            rules.before_delete(cur, entity, current[0], self._rules())
            cur.execute(sql(exp.delete(exp.to_table(entity.table, quoted=True), where=where)))
            changes.record_deletion(cur, entity, current[0], Store.next_value(cur, VERSION_SEQUENCE), self.clock())

    # -- helpers ----------------------------------------------------------------------
    def _change_existing(self, entity: EntitySet, key: dict[str | None, KeyValue], values: dict, request: Request) -> None:
        with self.store.writing() as cur:
            current = self._current(cur, entity, key)
            if current is None:
                raise missing(entity, key)
            _check_if_match(request.headers.get("If-Match"), current[1])
            self._update(cur, entity, current[0], values)

    @staticmethod
    def _current(cur: Transaction, entity: EntitySet, key: dict[str | None, KeyValue]) -> tuple[str, int] | None:
        """(primary key, version) of the row `key` names, or None."""
        def select(where: exp.Expression) -> exp.Select:
            return exp.select(exp.cast(column_ref(entity.column(entity.key[0])), "VARCHAR"), column_ref(entity.column("versionnumber"))) \
                .from_(exp.to_table(entity.table, quoted=True)).where(where)
        if None not in key:  # an alternate key: rare on the hot path, validated by key_condition
            return cur.execute(sql(select(key_condition(entity, key)))).fetchone()
        row_id = _primary_key(key[None].value)
        known = rule_rows.remembered(cur, entity, row_id)
        if known is not rule_rows.UNKNOWN:
            return None if known is None else (str(known[entity.key[0]]), known["versionnumber"])
        primary = entity.column(entity.key[0])
        text = prepared(("dataverse current", entity.table), lambda: select(exp.EQ(this=column_ref(primary), expression=placeholder(primary))))
        return cur.execute(text, [parameter(primary, row_id)]).fetchone()

    @staticmethod
    def remember(cur: Transaction, entity: EntitySet, row_ids: list[str], key_values: dict[tuple[str, ...], list[str]]) -> None:
        """Read, in one statement each, the rows `row_ids` name (every stored column) and the rows holding
        the alternate-key values `key_values` (first column's values per key), into the transaction's memo."""
        canonical = sorted({str(uuid.UUID(row_id)) for row_id in row_ids if _valid_id(row_id)})
        if canonical:
            result = cur.execute(prepared(("dataverse remember rows", entity.table), lambda: _known_rows(entity)), [canonical])
            names = [d[0] for d in result.description]
            found = {str(row[names.index(entity.key[0])]): dict(zip(names, row)) for row in result.fetchall()}
            for row_id in canonical:
                cur.memo[rule_rows.row_memo(entity, row_id)] = found.get(row_id)
        for key, values in key_values.items():
            probed = {value.lower() for value in values if value.isascii()}
            if key not in entity.alternate_keys or not probed or any(entity.column(name).type != "string" for name in key):
                continue
            holders: dict[tuple, set[str]] = {}
            for *lowered, row_id in cur.execute(prepared(("dataverse remember key", entity.table, key), lambda key=key: _key_holders(entity, key)),
                                                [sorted(probed)]).fetchall():
                holders.setdefault(tuple(lowered), set()).add(row_id)
            cur.memo[_key_memo(entity, key)] = _KeyHolders(probed, holders)

    @staticmethod
    def _writable(entity: EntitySet, name: str) -> str:
        column = entity.column(name)
        if column is None or column.lookup or column.read_only or name in entity.key:
            raise BadRequest(f"Invalid property '{name}' was found in entity '{entity.type_name}'.", code="0x80060888")
        return name

    @staticmethod
    def _lookup(entity: EntitySet, navigation: str):
        lookup = entity.lookups.get(navigation)
        if lookup is None:
            raise BadRequest(f"Invalid navigation property '{navigation}' was found in entity '{entity.type_name}'.", code="0x80060888")
        return lookup

    def _stamp(self, values: dict) -> None:
        """Every write: a new modifiedon; the statement itself takes the new version (the row's ETag) from the sequence."""
        values.pop("versionnumber", None)
        values["modifiedon"] = self.clock().replace(microsecond=0)

    def _check_alternate_keys(self, cur: Transaction, entity: EntitySet, row_id: str, values: dict) -> None:
        for key in _given_keys(entity, values):
            taken = _remembered_taken(cur, entity, key, values, row_id)
            if taken is None:
                text = prepared(("dataverse alternate key taken", entity.table, key), lambda key=key: _taken(entity, key))
                taken = cur.execute(text, _taken_parameters(entity, key, values, row_id)).fetchone() is not None
            if taken:
                names = ", ".join(key)
                raise PreconditionFailed(f"A record that has the attribute values {names} already exists. The entity key {names} requires that this set of attributes contains unique values.", code="0x80040237")

    def _rules(self) -> rules.RuleContext:
        return rules.RuleContext(self.seed, self.clock())

    def _insert(self, cur: Cursor, entity: EntitySet, values: dict) -> None:
        for column in entity.served:  # what a create leaves out gets the column's default
            if column.default is not None:
                values.setdefault(column.name, column.default)
        for name, fallback in (("statecode", 0), ("statuscode", 1)):
            if entity.column(name):
                values.setdefault(name, fallback)
        rules.before_create(cur, entity, values, self._rules())
        self._stamp(values)
        if entity.column("createdon"):
            values["createdon"] = values["modifiedon"]
        row_id = values[entity.key[0]]
        self._check_alternate_keys(cur, entity, row_id, values)
        columns = [entity.column(name) for name in values]
        def insert() -> exp.Insert:
            row = (*(placeholder(c) for c in columns), _next_version())
            names = [exp.to_identifier(c.name, quoted=True) for c in columns] + [exp.to_identifier("versionnumber", quoted=True)]
            return exp.insert(exp.values([row]), exp.to_table(entity.table, quoted=True), columns=names)
        row = [parameter(c, values[c.name]) for c in columns]
        cur.insert(("dataverse insert", entity.table, tuple(values)), insert,
                   lambda: bulk_insert(entity.table, columns, {"versionnumber": _next_version()}), row)
        _remember_inserted(cur, entity, row_id, values)
        rules.after_write(cur, entity, row_id, self._rules())

    def _update(self, cur: Cursor, entity: EntitySet, row_id: str, values: dict) -> None:
        rules.before_update(cur, entity, row_id, values, self._rules())
        self._check_alternate_keys(cur, entity, row_id, values)
        self._stamp(values)
        columns = [entity.column(name) for name in values]
        primary = entity.column(entity.key[0])
        def update() -> exp.Update:
            assignments = {exp.to_identifier(c.name, quoted=True): placeholder(c) for c in columns}
            assignments[exp.to_identifier("versionnumber", quoted=True)] = _next_version()
            return exp.update(exp.to_table(entity.table, quoted=True), assignments,
                              where=exp.EQ(this=column_ref(primary), expression=placeholder(primary)))
        itself = parameter(primary, row_id)
        changed_keys = [_key_memo(entity, key) for key in entity.alternate_keys if any(name in values for name in key)]
        cur.update(("dataverse update", entity.table, tuple(values)), update,
                   lambda: bulk_update(entity.table, primary, columns, "versionnumber"),
                   [*(parameter(c, values[c.name]) for c in columns), itself], VERSION_SEQUENCE,
                   [rule_rows.row_memo(entity, itself), *changed_keys])
        rules.after_write(cur, entity, row_id, self._rules())

    def _answer(self, entity: EntitySet, request: Request, api_root: str, row_id: str, *, created: bool, entity_id: str) -> Response:
        """204 with the entity's URL (as batch responses show it), or the row with `return=representation`."""
        if parse_prefer(request.header_values("Prefer")).get("return") == "representation":
            body = single_json(self.store, entity, _by_id(entity, row_id), request, api_root)
            return Response.raw_json(201 if created else 200, body, {
                "Preference-Applied": "return=representation", "ETag": json.loads(body)["@odata.etag"]})
        return Response(204, headers={"OData-EntityId": entity_id, "Location": entity_id})


def _check_if_match(if_match: str | None, version: int) -> None:
    """`If-Match: *` (or none) passes; any other value must be the row's current ETag."""
    wanted = (if_match or "*").strip()
    if wanted != "*" and wanted != f'W/"{version}"':
        raise PreconditionFailed(_MISMATCH, code="0x80060882")


def _given_keys(entity: EntitySet, values: dict) -> tuple[tuple[str, ...], ...]:
    """The alternate keys whose every column `values` fills: each must stay unique."""
    return tuple(tuple(key) for key in entity.alternate_keys if all(values.get(name) for name in key))


def _taken(entity: EntitySet, key: tuple[str, ...]) -> exp.Select:
    """Another row with these alternate-key values (case-insensitive); bound by `_taken_parameters`."""
    primary = entity.column(entity.key[0])
    same = [exp.EQ(this=exp.Lower(this=column_ref(entity.column(n))), expression=exp.Lower(this=exp.Placeholder())) for n in key]
    other = exp.NEQ(this=column_ref(primary), expression=placeholder(primary))
    return exp.select(exp.Literal.number(1)).from_(exp.to_table(entity.table, quoted=True)).where(exp.and_(*same, other)).limit(1)


def _taken_parameters(entity: EntitySet, key: tuple[str, ...], values: dict, row_id: str) -> list[object]:
    return [*(str(values[n]) for n in key), parameter(entity.column(entity.key[0]), row_id)]


@dataclass
class _KeyHolders:
    """Who holds an alternate key's values: for every row whose first key column, lowered, is in `probed`,
    its lowered key values -> its primary keys."""

    probed: set[str]
    holders: dict[tuple, set[str]]


def _key_memo(entity: EntitySet, key: tuple[str, ...]) -> tuple:
    return ("dataverse alternate key", entity.table, key)


def _valid_id(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _known_rows(entity: EntitySet) -> exp.Select:
    """Every stored column of the rows whose keys are in the one list parameter (GUID texts)."""
    primary = column_ref(entity.column(entity.key[0]))
    wanted = exp.select(exp.Unnest(expressions=[exp.cast(exp.Placeholder(), "UUID[]")]))
    return exp.select(exp.Star()).from_(exp.to_table(entity.table, quoted=True)).where(primary.isin(query=wanted))


def _key_holders(entity: EntitySet, key: tuple[str, ...]) -> exp.Select:
    """(lowered key values..., primary key as text) of the rows whose first key column, lowered, is in the one list parameter."""
    lowered = [exp.Lower(this=column_ref(entity.column(name))) for name in key]
    wanted = exp.select(exp.Unnest(expressions=[exp.cast(exp.Placeholder(), "VARCHAR[]")]))
    return exp.select(*lowered, exp.cast(column_ref(entity.column(entity.key[0])), "VARCHAR")) \
        .from_(exp.to_table(entity.table, quoted=True)).where(lowered[0].copy().isin(query=wanted))


def _remembered_taken(cur: Transaction, entity: EntitySet, key: tuple[str, ...], values: dict, row_id: str) -> bool | None:
    """What `_taken` would answer, from the memo; None when the memo cannot tell (then ask the store).

    Only ASCII values: DuckDB's `lower` and Python's agree on them."""
    known = cur.memo.get(_key_memo(entity, key))
    wanted = tuple(str(values[name]) for name in key)
    if not isinstance(known, _KeyHolders) or not all(v.isascii() for v in wanted) or wanted[0].lower() not in known.probed:
        return None
    itself = parameter(entity.column(entity.key[0]), row_id)
    return any(holder != itself for holder in known.holders.get(tuple(v.lower() for v in wanted), ()))


def _remember_inserted(cur: Transaction, entity: EntitySet, row_id: str, values: dict) -> None:
    """After an insert the memo no longer knows the row (its version comes with the statement) and knows it holds its keys."""
    itself = parameter(entity.column(entity.key[0]), row_id)  # the stored id's text, as the memo keys it
    cur.memo.pop(rule_rows.row_memo(entity, itself), None)
    for key in entity.alternate_keys:
        known = cur.memo.get(_key_memo(entity, key))
        if not isinstance(known, _KeyHolders) or values.get(key[0]) is None:
            continue
        held = tuple(str(values[name]) if values.get(name) is not None else None for name in key)
        if not all(v is None or v.isascii() for v in held):
            del cur.memo[_key_memo(entity, key)]  # the store lowers it, not Python: ask the store from now on
        elif held[0].lower() in known.probed and None not in held:
            known.holders.setdefault(tuple(v.lower() for v in held), set()).add(itself)


def _next_version() -> exp.Expression:
    return exp.func("nextval", exp.Literal.string(VERSION_SEQUENCE))


def _primary_key(value: str) -> str:
    """A primary-key value from a URL, refused as `key_condition` refuses it."""
    try:
        uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"Bad Request - Error in query syntax. '{value}' is not a valid key.", code="0x80060888") from None
    return value


def _by_id(entity: EntitySet, row_id: str) -> exp.Expression:
    key = entity.column(entity.key[0])
    return exp.EQ(this=column_ref(key), expression=literal(key, row_id))


def resource_key(segment: str, entity_sets: dict[str, EntitySet]) -> tuple[EntitySet, dict[str | None, KeyValue]] | None:
    """The entity set and key of `accounts(<id>)`, or None."""
    resource = parse_resource(segment)
    entity = entity_sets.get(resource.entity_set) if resource else None
    return (entity, resource.key) if entity and resource.key else None
