"""F&O reads: company scoping, server paging with `$skip` next links, `$count`, `$expand`, GET by key (protocols.md 2.1, 2.2)."""

import functools
import json
import re
from urllib.parse import quote

from sqlglot import exp

from emulate.catalog import DEFAULT_COMPANY, FNO_ENTITY_SETS
from emulate.errors import BadRequest, NotFound
from emulate.odata.filter import FilterRules, parse_filter
from emulate.odata.keys import KeyValue
from emulate.odata.pages import PageQueries, cached_page, page_body
from emulate.odata.query import (Navigation, cacheable, column_fields, column_ref, context_suffix, count_select, expansion_field,
                                 page_json, page_select, parse_count, parse_expand, parse_orderby, parse_select, wants_count)
from emulate.read_ahead import AHEAD, ReadAhead
from emulate.schema import Column, EntitySet
from emulate.server import Request, Response
from emulate.store import Store, literal, sql

ODATA_EXCEPTION = "Microsoft.OData.ODataException"
RULES = FilterRules(string_functions=False, wildcard_eq=True, arithmetic=True, error_kind=ODATA_EXCEPTION)
_QUERY_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skip", "$count", "$expand"}


def etag(entity: EntitySet) -> exp.Expression:
    """`W/"<base64 of 'RecVersion,RecId'>"` (quotes included, as the real ETags decode)."""
    text = exp.DPipe(this=exp.Literal.string("'"), expression=exp.DPipe(
        this=exp.cast(exp.column("RecVersion", quoted=True), "VARCHAR"),
        expression=exp.DPipe(this=exp.Literal.string(","), expression=exp.DPipe(
            this=exp.cast(exp.column("RecId", quoted=True), "VARCHAR"), expression=exp.Literal.string("'")))))
    encoded = exp.Anonymous(this="to_base64", expressions=[exp.Anonymous(this="encode", expressions=[text])])
    return exp.DPipe(this=exp.DPipe(this=exp.Literal.string('W/"'), expression=encoded), expression=exp.Literal.string('"'))


def cross_company(request: Request) -> bool:
    return (request.param("cross-company") or "").lower() == "true"


def company_scope(request: Request) -> exp.Expression | None:
    """Without `cross-company=true` only the default company is visible."""
    return _company_scope(cross_company(request))


def _company_scope(cross: bool) -> exp.Expression | None:
    return None if cross else exp.EQ(this=exp.column("dataAreaId", quoted=True), expression=exp.Literal.string(DEFAULT_COMPANY))


def key_condition(entity: EntitySet, key: dict[str | None, KeyValue], request: Request) -> exp.Expression:
    """WHERE clause for a full composite key, within the visible companies."""
    if set(key) != set(entity.key):
        raise BadRequest(f"The number of keys specified in the URI does not match number of key properties for the resource '{entity.type_name}'.", kind=ODATA_EXCEPTION)
    parts = [_key_part(entity.column(name), key[name]) for name in entity.key]
    scope = company_scope(request)
    return exp.and_(*parts, *([scope] if scope is not None else []))


def _key_part(column: Column, value: KeyValue) -> exp.Expression:
    """`column = value`: strings compare case-insensitively (SQL Server collation), numbers by value."""
    if column.type in ("string", "enum"):
        return exp.EQ(this=exp.Lower(this=column_ref(column)), expression=exp.Lower(this=exp.Literal.string(value.value)))
    if value.quoted or not re.fullmatch(r"-?\d+(?:\.\d+)?", value.value):
        raise BadRequest(f"The key value '{value.value}' is not a valid {column.edm_type} for '{column.name}'.", kind=ODATA_EXCEPTION)
    return exp.EQ(this=column_ref(column), expression=literal(column, value.value))


def navigation(entity: EntitySet, name: str) -> Navigation | None:
    """The navigation property `name` (case-sensitive) the catalog declares on `entity`, or None (the `$expand` is refused).

    The expanded rows share the row's dataAreaId through the link columns, so they stay within its company.
    """
    declared = next((n for n in entity.navigations if n.name == name), None)
    if declared is None:
        return None
    return Navigation(declared.name, FNO_ENTITY_SETS[declared.target], declared.on, declared.single)


def _fields(entity: EntitySet, request: Request):
    """(selected columns, expansions, JSON members) of each served row."""
    selected = parse_select(request.param("$select"), entity, RULES)
    expansions = parse_expand(request.param("$expand"), entity, RULES, lambda name: navigation(entity, name))
    fields = _row_fields(entity, selected)
    for expansion in expansions:
        inner = [("@odata.etag", etag(expansion.navigation.target)), *column_fields(expansion.columns)]
        fields.append(expansion_field(expansion, inner))
    return selected, expansions, fields


def _row_fields(entity: EntitySet, selected: list[Column] | None):
    """The etag, then the selected (or every) column."""
    return [("@odata.etag", etag(entity)), *column_fields(selected or list(entity.served))]


def single_json(store: Store, entity: EntitySet, where: exp.Expression, request: Request, api_root: str) -> str | None:
    selected, expansions, fields = _fields(entity, request)
    with store.reading() as cur:
        row = cur.execute(sql(page_select(entity, fields, where, [], 1))).fetchone()
    if row is None:
        return None
    context = f"{api_root}$metadata#{context_suffix(entity, selected, request.param('$select'), expansions)}/$entity"
    return '{"@odata.context":' + json.dumps(context) + "," + row[0][1:]


def get_single(store: Store, entity: EntitySet, key: dict[str | None, KeyValue], request: Request, api_root: str) -> Response:
    body = single_json(store, entity, key_condition(entity, key, request), request, api_root)
    if body is None:
        raise NotFound("No resources were found.", kind=ODATA_EXCEPTION)
    return Response.raw_json(200, body)


def get_collection(store: Store, entity: EntitySet, request: Request, api_root: str, page_size: int,
                   read_ahead: ReadAhead | None = None) -> Response:
    for name, _ in request.query:
        if name.startswith("$") and name not in _QUERY_OPTIONS:
            raise BadRequest(f"The query parameter '{name}' is not supported.", kind=ODATA_EXCEPTION)
    selected, expansions, fields = _fields(entity, request)
    order = parse_orderby(request.param("$orderby"), entity, RULES)
    skip = parse_count("$skip", request.param("$skip"), RULES) or 0
    top = parse_count("$top", request.param("$top"), RULES)
    size = page_size if top is None else min(top, page_size)

    read_next = None  # the next page, read ahead once this one is ready to send
    if cacheable(entity, fields) and not store.in_transaction:  # a write transaction's rows may yet roll back
        scan = (entity.name, request.param("$select"), request.param("$filter"), request.param("$orderby"), cross_company(request))
        queries = _page_queries(*scan, size)
        if read_ahead is not None:
            read_ahead.settle(scan, (size, skip))
            if skip == 0 and top is None:  # a scan of server-sized pages, as the next start's warm-up builds them
                read_ahead.remember((*scan, size))
        page = cached_page(store, queries, [skip])
        rows, fetched = page.rows, page.fetched
        if read_ahead is not None and fetched > size and (top is None or top > size):
            read_next = functools.partial(_read_next_page, read_ahead, store, scan,
                                          page_size if top is None else min(top - size, page_size), skip + size, AHEAD if top is None else 1)
    else:
        with store.reading() as cur:
            page, fetched, _, _ = cur.execute(sql(page_json(entity, fields, _where(entity, request), order, size, skip))).fetchone()
        rows = [page] if page else []
    if wants_count(request.param("$count"), RULES):
        with store.reading() as cur:
            total = cur.execute(_count_sql(entity.name, request.param("$filter"), cross_company(request))).fetchone()[0]
    else:
        total = None
    context = f"{api_root}$metadata#{context_suffix(entity, selected, request.param('$select'), expansions)}"
    head = ['{"@odata.context":' + json.dumps(context)] + ([f'"@odata.count":{total}'] if total is not None else [])
    tail = ""
    if fetched > size and (top is None or top > size):
        tail = ',"@odata.nextLink":' + json.dumps(_next_link(request, skip + size, None if top is None else top - size))
    body = page_body(",".join(head) + ',"value":[', rows, "]" + tail + "}")
    if read_next is not None:
        read_next()
    return Response(200, body, {"Content-Type": "application/json; charset=utf-8"})


@functools.lru_cache(maxsize=512)
def _page_queries(entity_name: str, select: str | None, filter_text: str | None, orderby: str | None, cross: bool,
                  size: int) -> PageQueries:
    """The queries of a page of rows without expansions, once per request shape and page size (the rows skipped, `$skip`,
    are their last parameter: compiled once for every page of a scan)."""
    entity = FNO_ENTITY_SETS[entity_name]
    where = _where_of(entity, filter_text, cross)
    order = parse_orderby(orderby, entity, RULES)
    fields = _row_fields(entity, parse_select(select, entity, RULES))
    return PageQueries(("fno", entity_name, select, filter_text, orderby, cross, size), entity, fields, where, order, size, None)


@functools.lru_cache(maxsize=512)
def _count_sql(entity_name: str, filter_text: str | None, cross: bool) -> str:
    """The count of a request shape's rows (`$count=true`), compiled once per shape."""
    entity = FNO_ENTITY_SETS[entity_name]
    return sql(count_select(entity, _where_of(entity, filter_text, cross)))


def _read_next_page(read_ahead: ReadAhead, store: Store, scan: tuple, size: int, skip: int, ahead: int = 1) -> None:
    """Build the rows of the page the next link asks for in the background (its queries compiled there too); then,
    `ahead` pages in all, the page after it (only for next links without `$top`, whose pages all have one size)."""
    def build() -> None:
        if ahead > 1 and cached_page(store, _page_queries(*scan, size), [skip]).fetched > size:
            _read_next_page(read_ahead, store, scan, size, skip + size, ahead - 1)
    read_ahead.schedule(scan, (size, skip), build)


def warm_first_page(read_ahead: ReadAhead, store: Store, first_page: tuple) -> bool:
    """Have the start-up warm-up build a first page served before (`ReadAhead.first_pages`: the scan and its size)."""
    *scan, size = first_page
    scan = tuple(scan)

    def build() -> None:
        if cached_page(store, _page_queries(*scan, size), [0]).fetched > size:
            _read_next_page(read_ahead, store, scan, size, size)  # and the second, as its first page's request would
    read_ahead.remember(first_page)
    return read_ahead.warm(scan, (size, 0), build)


def get_count(store: Store, entity: EntitySet, request: Request) -> Response:
    """`Set/$count`: the number of visible rows matching `$filter`, as text."""
    for name, _ in request.query:
        if name.startswith("$") and name != "$filter":
            raise BadRequest(f"The query parameter '{name}' is not supported.", kind=ODATA_EXCEPTION)
    with store.reading() as cur:
        total = cur.execute(sql(count_select(entity, _where(entity, request)))).fetchone()[0]
    return Response(200, str(total).encode(), {"Content-Type": "text/plain; charset=utf-8"})


def _where(entity: EntitySet, request: Request) -> exp.Expression | None:
    return _where_of(entity, request.param("$filter"), cross_company(request))


def _where_of(entity: EntitySet, filter_text: str | None, cross: bool) -> exp.Expression | None:
    """`$filter` within the visible companies."""
    conditions = [c for c in (parse_filter(filter_text, entity, RULES) if filter_text else None, _company_scope(cross)) if c is not None]
    return exp.and_(*(exp.Paren(this=c) for c in conditions)) if conditions else None


def _next_link(request: Request, skip: int, top: int | None) -> str:
    """The original options with `$skip` (and a reduced `$top`) for the next page."""
    options = [(name, value) for name, value in request.query if name not in ("$skip", "$top")]
    if top is not None:
        options.append(("$top", str(top)))
    options.append(("$skip", str(skip)))
    query = "&".join(f"{quote(name, safe='$')}={quote(value, safe='')}" for name, value in options)
    return f"{request.origin}{quote(request.path)}?{query}"
