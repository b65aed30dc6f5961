"""Dataverse reads: collection GET with paging, GET by key (protocols.md 1.2, 1.3)."""

import json
import uuid
from urllib.parse import quote

from sqlglot import exp

from emulate.dataverse.paging import MAX_PAGE_SIZE, make_skiptoken, page_size, parse_prefer, read_skiptoken
from emulate.errors import BadRequest, NotFound
from emulate.odata.filter import FilterRules, parse_filter
from emulate.odata.keys import KeyValue
from emulate.odata.query import column_ref, context_suffix, count_select, page_select, parse_count, parse_orderby, parse_select
from emulate.schema import Column, EntitySet
from emulate.server import Request, Response
from emulate.store import Store, literal, sql

RULES = FilterRules(string_functions=True, wildcard_eq=False, error_code="0x80060888")
_QUERY_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skiptoken", "$count"}


def etag(entity: EntitySet) -> exp.Expression:
    """`W/"<versionnumber>"` as SQL."""
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string('W/"'), expression=exp.cast(column_ref(entity.column("versionnumber")), "VARCHAR")),
                     expression=exp.Literal.string('"'))


def logical_name(entity: EntitySet) -> str:
    return entity.type_name.rsplit(".", 1)[1]


def key_condition(entity: EntitySet, key: dict[str | None, KeyValue]) -> exp.Expression:
    """WHERE clause for `accounts(<guid>)` or an alternate key `accounts(accountnumber='x')`."""
    if None in key:
        value = key[None].value
        try:
            uuid.UUID(value)
        except ValueError:
            raise BadRequest(f"Bad Request - Error in query syntax. '{value}' is not a valid key.", code="0x80060888") from None
        return exp.EQ(this=column_ref(entity.column(entity.key[0])), expression=literal(entity.column(entity.key[0]), value))
    names = tuple(sorted(key))
    if names not in {tuple(sorted(k)) for k in (*entity.alternate_keys, entity.key)}:
        raise BadRequest(f"Invalid alternate key: {', '.join(names)} is not a key of {logical_name(entity)}.", code="0x80060888")
    return exp.and_(*(exp.EQ(this=column_ref(entity.column(name)), expression=literal(entity.column(name), value.value))
                      for name, value in key.items()))


def missing(entity: EntitySet, key: dict[str | None, KeyValue]) -> NotFound:
    if None in key:
        return NotFound(f"{logical_name(entity)} With Id = {key[None].value} Does Not Exist", code="0x80040217")
    return NotFound(f"A record with the specified key values does not exist in {logical_name(entity)} entity", code="0x80040217")


def single_json(store: Store, entity: EntitySet, where: exp.Expression, request: Request, api_root: str) -> str | None:
    """One row as an entity payload (with `$select`), or None."""
    selected = parse_select(request.param("$select"), entity, RULES)
    columns = _with_key(entity, selected)
    with store.reading() as cur:
        row = cur.execute(sql(page_select(entity, columns, etag(entity), where, [], 1))).fetchone()
    if row is None:
        return None
    context = f"{api_root}$metadata#{context_suffix(entity, selected, request.param('$select'))}/$entity"
    return '{"@odata.context":' + json.dumps(context) + "," + row[0][1:]


def get_single(store: Store, entity: EntitySet, key: dict[str | None, KeyValue], request: Request, api_root: str) -> Response:
    body = single_json(store, entity, key_condition(entity, key), request, api_root)
    if body is None:
        raise missing(entity, key)
    return Response.raw_json(200, body)


def get_collection(store: Store, entity: EntitySet, request: Request, api_root: str) -> Response:
    for name, _ in request.query:
        if name == "$skip":
            raise BadRequest("The query parameter $skip is not supported", code="0x80060888")
        if name.startswith("$") and name not in _QUERY_OPTIONS:
            raise BadRequest(f"The query parameter {name} is not supported", code="0x80060888")
    preferences = parse_prefer(request.header_values("Prefer"))
    requested_size = page_size(preferences)
    selected = parse_select(request.param("$select"), entity, RULES)
    columns = _with_key(entity, selected)
    order = parse_orderby(request.param("$orderby"), entity, RULES)
    filter_text = request.param("$filter")
    where = parse_filter(filter_text, entity, RULES) if filter_text else None
    top = None if requested_size else parse_count("$top", request.param("$top"), RULES)
    size = min(top, MAX_PAGE_SIZE) if top is not None else (requested_size or MAX_PAGE_SIZE)

    key = entity.column(entity.key[0])
    page_number, offset, page_where = 1, 0, where
    token = request.param("$skiptoken")
    if token:
        page_number, last = read_skiptoken(token, key.name)
        if order:
            offset = (page_number - 1) * size
        else:
            after = exp.GT(this=column_ref(key), expression=literal(key, last))
            page_where = after if where is None else exp.and_(exp.Paren(this=where), after)
    query = page_select(entity, columns, etag(entity), page_where, order, size + 1, offset) \
        .select(exp.cast(column_ref(key), "VARCHAR"))
    with store.reading() as cur:
        rows = cur.execute(sql(query)).fetchall()
        total = cur.execute(sql(count_select(entity, where))).fetchone()[0] \
            if (request.param("$count") or "").lower() == "true" else None

    has_more = len(rows) > size and top is None
    rows = rows[:size]
    context = f"{api_root}$metadata#{context_suffix(entity, selected, request.param('$select'))}"
    parts = ['{"@odata.context":' + json.dumps(context)]
    if total is not None:
        parts.append(f'"@odata.count":{min(total, MAX_PAGE_SIZE)}')
    parts.append('"value":[' + ",".join(row[0] for row in rows) + "]")
    if has_more:
        skiptoken = make_skiptoken(page_number + 1, key.name, rows[0][1], rows[-1][1])
        parts.append('"@odata.nextLink":' + json.dumps(_next_link(request, skiptoken)))
    headers = {"Preference-Applied": f"odata.maxpagesize={requested_size}"} if requested_size else {}
    return Response.raw_json(200, ",".join(parts) + "}", headers)


def _with_key(entity: EntitySet, selected: list[Column] | None) -> list[Column]:
    """Selected columns plus the primary key (always returned), or every column."""
    if selected is None:
        return list(entity.served)
    key = entity.column(entity.key[0])
    return selected if key in selected else [*selected, key]


def _next_link(request: Request, skiptoken: str) -> str:
    """The same URL on this origin with the new `$skiptoken` (absolute, opaque to clients)."""
    options = [(name, value) for name, value in request.query if name != "$skiptoken"]
    options.append(("$skiptoken", skiptoken))
    query = "&".join(f"{quote(name, safe='$')}={quote(value, safe='')}" for name, value in options)
    return f"{request.origin}{quote(request.path)}?{query}"
