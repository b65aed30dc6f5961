"""Dataverse reads: collection GET with paging, `$count`, `$expand`, annotations, change tracking; GET by key.

protocols.md 1.2 (query options, annotations), 1.3 (paging) and 1.4 (change tracking).
"""

import functools
import json
import uuid
from dataclasses import dataclass
from urllib.parse import quote

from sqlglot import exp

from emulate.dataverse.changes import ChangeTracking, DeltaToken, refuse_tracking_options
from emulate.dataverse.fields import (CURRENCY_LOOKUP, TOTAL_COUNT_LIMIT_EXCEEDED, TOTAL_RECORD_COUNT, AnnotationFilter,
                                      navigation, row_fields)
from emulate.dataverse.paging import (MAX_PAGE_SIZE, SkipToken, make_skiptoken, page_size, parse_prefer, preference_applied,
                                      read_skiptoken)
from emulate.errors import BadRequest, NotFound
from emulate.metadata.dataverse import logical_name
from emulate.odata.filter import FilterRules, parse_filter
from emulate.odata.keys import KeyValue
from emulate.odata.pages import PageQueries, cached_page, key_pages, keyset_condition, page_body, served_key_page
from emulate.odata.query import (Expansion, cacheable, column_ref, context_suffix, count_select, page_json, page_select, parse_count,
                                 parse_expand, parse_orderby, parse_select, wants_count)
from emulate.read_ahead import AHEAD, RUN, ReadAhead
from emulate.catalog import SALES_ENTITY_SETS
from emulate.schema import Column, EntitySet
from emulate.server import Request, Response
from emulate.store import Store, literal, sql

__all__ = ["RULES", "get_collection", "get_count", "get_single", "key_condition", "logical_name", "missing", "single_json"]

RULES = FilterRules(string_functions=True, wildcard_eq=False, error_code="0x80060888")
_QUERY_OPTIONS = {"$select", "$filter", "$orderby", "$top", "$skiptoken", "$count", "$expand", "$deltatoken"}
TRACK_CHANGES = "odata.track-changes"


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
    return exp.and_(*(_alternate_key_equals(entity.column(name), value.value) for name, value in key.items()))


def _alternate_key_equals(column: Column, value: object) -> exp.Expression:
    """An alternate key's value names its row case-insensitively, as Dataverse's default collation
    compares (and as the key's uniqueness is checked)."""
    ref, given = column_ref(column), literal(column, value)
    if column.type == "string":
        return exp.EQ(this=exp.Lower(this=ref), expression=exp.Lower(this=given))
    return exp.EQ(this=ref, expression=given)


def missing(entity: EntitySet, key: dict[str | None, KeyValue]) -> NotFound:
    if None in key:
        return NotFound(f"{logical_name(entity)} With Id = {key[None].value} Does Not Exist", code="0x80040217")
    return NotFound(f"A record with the specified key values does not exist in {logical_name(entity)} entity", code="0x80040217")


@dataclass(frozen=True)
class _Shape:
    """What each served row holds, as the query options and `Prefer` asked."""

    selected: list[Column] | None
    expansions: list[Expansion]
    annotations: AnnotationFilter
    context: str  # `accounts(name,...)` for `@odata.context`

    def fields(self, entity: EntitySet):
        return row_fields(entity, _served_columns(entity, self.selected), self.annotations, self.expansions)


def _shape(entity: EntitySet, request: Request, preferences: dict[str, str]) -> _Shape:
    return _shape_of(entity, request.param("$select"), request.param("$expand"), preferences.get("odata.include-annotations"))


def _shape_of(entity: EntitySet, select: str | None, expand: str | None, annotations: str | None) -> _Shape:
    selected = parse_select(select, entity, RULES)
    expansions = parse_expand(expand, entity, RULES, lambda name: navigation(entity, name))
    return _Shape(selected, expansions, AnnotationFilter(annotations), context_suffix(entity, selected, select, expansions))


@dataclass(frozen=True, eq=False)
class _PageShape:
    """One request shape's page, parsed: its rows' members, condition and order (one object per shape, hashed by identity)."""

    entity: EntitySet
    fields: list
    where: exp.Expression | None
    order: list
    size: int
    offset: int


@functools.lru_cache(maxsize=512)
def _page_shape(entity_name: str, select: str | None, expand: str | None, annotations: str | None, filter_text: str | None,
                orderby: str | None, size: int, offset: int, keyset: bool) -> _PageShape:
    """With `keyset` the previous page's last key is the page queries' parameter."""
    entity = SALES_ENTITY_SETS[entity_name]
    where = parse_filter(filter_text, entity, RULES) if filter_text else None
    if keyset:
        where = keyset_condition(entity, where)
    fields = _shape_of(entity, select, expand, annotations).fields(entity)
    return _PageShape(entity, fields, where, parse_orderby(orderby, entity, RULES), size, offset)


@functools.lru_cache(maxsize=512)
def page_queries(*page: object) -> PageQueries | None:
    """The queries of a page (`_page_shape`'s arguments) served from the row-text cache, or None when its rows read other rows."""
    *scan, keyset = page
    shape = _page_shape(*scan, False)  # the request's condition: the queries add the keyset's own
    if not cacheable(shape.entity, shape.fields):
        return None
    return PageQueries(("sales", *page), shape.entity, shape.fields, shape.where, shape.order, shape.size, shape.offset, after=keyset)


@functools.lru_cache(maxsize=512)
def _page_sql(page: _PageShape) -> str:
    """The page as JSON, rows found and first and last key, in one row."""
    key = exp.cast(column_ref(page.entity.column(page.entity.key[0])), "VARCHAR")
    return sql(page_json(page.entity, page.fields, page.where, page.order, page.size, page.offset, key=key))


def single_json(store: Store, entity: EntitySet, where: exp.Expression, request: Request, api_root: str) -> str | None:
    """One row as an entity payload (with `$select`, `$expand` and annotations), or None."""
    shape = _shape(entity, request, parse_prefer(request.header_values("Prefer")))
    with store.reading() as cur:
        row = cur.execute(sql(page_select(entity, shape.fields(entity), where, [], 1))).fetchone()
    if row is None:
        return None
    return '{"@odata.context":' + json.dumps(f"{api_root}$metadata#{shape.context}/$entity") + "," + row[0][1:]


def get_single(store: Store, entity: EntitySet, key: dict[str | None, KeyValue], request: Request, api_root: str) -> Response:
    body = single_json(store, entity, key_condition(entity, key), request, api_root)
    if body is None:
        raise missing(entity, key)
    preferences = parse_prefer(request.header_values("Prefer"))
    if _not_modified(request, preferences, body):
        return Response(304, headers={"Content-Type": "application/json"})
    return Response.raw_json(200, body, preference_applied(_annotations_applied(preferences)))


def _not_modified(request: Request, preferences: dict[str, str], body: str) -> bool:
    """`If-None-Match` names the row's current ETag; never with `$expand` or annotations
    (perform-conditional-operations-using-web-api.md, "Conditional retrievals")."""
    if_none_match = request.headers.get("If-None-Match")
    if not if_none_match or request.param("$expand") is not None or "odata.include-annotations" in preferences:
        return False
    return json.loads(body).get("@odata.etag") in {tag.strip() for tag in if_none_match.split(",")}


def get_count(store: Store, entity: EntitySet, request: Request, changes: ChangeTracking) -> Response:
    """`accounts/$count`: the number of matching rows (at most 5,000), or of changes since `$deltatoken`, as text."""
    _check_options(request)
    token = request.param("$deltatoken")
    if token is not None:
        _require_tracking(entity)
        total = changes.count(entity, changes.accept(token))
    else:
        filter_text = request.param("$filter")
        where = parse_filter(filter_text, entity, RULES) if filter_text else None
        with store.reading() as cur:
            total = min(cur.execute(sql(count_select(entity, where))).fetchone()[0], MAX_PAGE_SIZE)
    return Response(200, str(total).encode(), {"Content-Type": "text/plain; charset=utf-8"})


def get_collection(store: Store, entity: EntitySet, request: Request, api_root: str, changes: ChangeTracking,
                   read_ahead: ReadAhead | None = None) -> Response:
    _check_options(request)
    preferences = parse_prefer(request.header_values("Prefer"))
    requested_size = page_size(preferences)
    token_text = request.param("$skiptoken")
    key = entity.column(entity.key[0])
    skiptoken = read_skiptoken(token_text, key.name) if token_text else None
    tracking = entity.change_tracking and (TRACK_CHANGES in preferences or request.param("$deltatoken") is not None
                                           or (skiptoken is not None and skiptoken.tracking is not None))
    if tracking:
        refuse_tracking_options(request)
    shape = _shape(entity, request, preferences)
    applied = [f"odata.maxpagesize={requested_size}"] if requested_size else []
    applied += [TRACK_CHANGES] if tracking and TRACK_CHANGES in preferences else []
    applied += _annotations_applied(preferences)
    if request.param("$deltatoken") is not None:
        _require_tracking(entity)
        return _delta(store, entity, request, api_root, changes, shape, requested_size or MAX_PAGE_SIZE, skiptoken, applied)

    order = parse_orderby(request.param("$orderby"), entity, RULES)
    filter_text = request.param("$filter")
    where = parse_filter(filter_text, entity, RULES) if filter_text else None  # checked here, compiled once in _page_shape
    top = None if requested_size else parse_count("$top", request.param("$top"), RULES)
    size = min(top, MAX_PAGE_SIZE) if top is not None else (requested_size or MAX_PAGE_SIZE)
    page_number = skiptoken.page_number if skiptoken else 1
    keyset = skiptoken is not None and not order  # the key order pages by the last key seen, any other by offset
    offset = (page_number - 1) * size if skiptoken and order else 0
    scan = (entity.name, request.param("$select"), request.param("$expand"), preferences.get("odata.include-annotations"),
            filter_text, request.param("$orderby"), size)  # what every page of one scan shares
    page_shape = _page_shape(*scan, offset, keyset)
    parameters = [skiptoken.last] if keyset else []
    with store.reading() as cur:
        snapshot = (skiptoken.tracking if skiptoken and skiptoken.tracking else changes.current(cur, entity).text) if tracking else None
    cached = None if store.in_transaction else page_queries(*scan, offset, keyset)  # a write transaction's rows may yet roll back
    read_next = None  # the next page, read ahead once this one is ready to send
    if cached is not None:
        if read_ahead is not None:
            built = (lambda: served_key_page(store, cached, parameters) is not None) if cached.by_key else None
            read_ahead.settle(scan, (offset, keyset, *parameters), built)
            if skiptoken is None:
                read_ahead.remember(scan)
        page = cached_page(store, cached, parameters)
        rows, fetched, first, last = page.rows, page.fetched, page.first, page.last
        if read_ahead is not None and fetched > size and top is None:
            read_next = functools.partial(_read_key_pages, read_ahead, store, scan, last) if not order else \
                functools.partial(_read_next_page, read_ahead, store, scan, offset + size)
    else:
        with store.reading() as cur:
            page, fetched, first, last = cur.execute(_page_sql(page_shape), parameters).fetchone()
        rows = [page] if page else []
    with store.reading() as cur:
        total = cur.execute(sql(count_select(entity, where))).fetchone()[0] if wants_count(request.param("$count"), RULES) else None

    head = ['{"@odata.context":' + json.dumps(f"{api_root}$metadata#{shape.context}"), *_count_members(total, shape.annotations)]
    tail = ""
    if fetched > size and top is None:
        skip = make_skiptoken(page_number + 1, key.name, first, last, snapshot)
        tail = ',"@odata.nextLink":' + json.dumps(_link(request, "$skiptoken", skip))
    elif snapshot:
        tail = ',"@odata.deltaLink":' + json.dumps(_link(request, "$deltatoken", snapshot))
    body = page_body(",".join(head) + ',"value":[', rows, "]" + tail + "}")
    if read_next is not None:
        read_next()
    return Response(200, body, {"Content-Type": "application/json; charset=utf-8", **preference_applied(applied)})


def _read_next_page(read_ahead: ReadAhead, store: Store, scan: tuple, offset: int, ahead: int = AHEAD) -> None:
    """Build the row texts of the page at `offset` of a scan in `$orderby` order in the background (its queries
    compiled there too), as its request will ask; then, `ahead` pages in all, the page after it (the worker keeps
    ahead of a client that parses as fast as it builds). Scans in key order: `_read_key_pages`."""
    size = scan[-1]

    def build() -> None:
        page = cached_page(store, page_queries(*scan, offset, False), [])
        if ahead > 1 and page.fetched > size:
            _read_next_page(read_ahead, store, scan, offset + size, ahead - 1)
    read_ahead.schedule(scan, (offset, False), build)


def _read_key_pages(read_ahead: ReadAhead, store: Store, scan: tuple, served: str) -> None:
    """Keep a scan read by key built 2 x `RUN` pages ahead of the page served (whose last key is `served`): when one
    of those is not built, build it and up to `RUN` - 1 after it in the background, in one go (`key_pages`), while
    the client parses the pages built before it.

    A run is as long as the pages already built ahead allow: one page when none is (the client asks for it next,
    and waits for the whole run), two when one is, else `RUN`. The one-page run schedules the next at once."""
    queries = page_queries(*scan, 0, True)
    after = served
    for ahead in range(2 * RUN):
        page = served_key_page(store, queries, [after])
        if page is None:
            break
        if page.fetched <= queries.size:
            return  # the scan ends among the pages built
        after = page.last
    else:
        return  # built far enough ahead
    most = min(RUN, 2 ** ahead)

    def build() -> None:
        built = key_pages(store, queries, [after], most)
        if most == 1 and built[-1].fetched > queries.size:
            _read_key_pages(read_ahead, store, scan, served)
    read_ahead.schedule(scan, (0, True, after), build)


def warm_first_page(read_ahead: ReadAhead, store: Store, scan: tuple) -> bool:
    """Have the start-up warm-up build the first page of a scan served before (`ReadAhead.first_pages`)."""
    def build() -> None:
        queries = page_queries(*scan, 0, False)
        page = cached_page(store, queries, [])
        if page.fetched > queries.size and queries.order:  # and the second: the first page's request finds it built
            _read_next_page(read_ahead, store, scan, queries.size, 1)
        elif page.fetched > queries.size:
            _read_key_pages(read_ahead, store, scan, page.last)
    read_ahead.remember(scan)
    return read_ahead.warm(scan, (0, False), build)


def _delta(store: Store, entity: EntitySet, request: Request, api_root: str, changes: ChangeTracking, shape: _Shape,
           size: int, skiptoken: SkipToken | None, applied: list[str]) -> Response:
    """A page of changes since `$deltatoken`: changed rows by key, then deleted ones; a new deltaLink at the end."""
    since = changes.accept(request.param("$deltatoken"))
    key = entity.column(entity.key[0])
    with store.reading() as cur:
        until = DeltaToken.parse(skiptoken.tracking) if skiptoken else changes.current(cur, entity)
        phase, after = (skiptoken.phase, skiptoken.last) if skiptoken else ("changed", None)
        changed = changes.changed_rows(cur, entity, shape.fields(entity), since.version, until.version, after, size + 1) \
            if phase == "changed" else []
        room = size + 1 - len(changed)
        deleted = changes.deleted_ids(cur, entity, since.version, until.version, after if phase == "deleted" else None, room) \
            if room > 0 else []
    items = [row[0] for row in changed] + [changes.deleted_json(api_root, entity, row_id) for row_id in deleted]
    keys = [("changed", row[1]) for row in changed] + [("deleted", row_id) for row_id in deleted]
    parts = ['{"@odata.context":' + json.dumps(f"{api_root}$metadata#{shape.context}/$delta"),
             '"value":[' + ",".join(items[:size]) + "]"]
    if len(items) > size:
        page_number = skiptoken.page_number + 1 if skiptoken else 2
        last_phase, last = keys[size - 1]
        skip = make_skiptoken(page_number, key.name, keys[0][1], last, until.text, last_phase)
        parts.append('"@odata.nextLink":' + json.dumps(_link(request, "$skiptoken", skip)))
    else:
        parts.append('"@odata.deltaLink":' + json.dumps(_link(request, "$deltatoken", until.text)))
    return Response.raw_json(200, ",".join(parts) + "}", preference_applied(applied))


def _check_options(request: Request) -> None:
    for name, _ in request.query:
        if name == "$skip":
            raise BadRequest("The query parameter $skip is not supported", code="0x80060888")
        if name.startswith("$") and name not in _QUERY_OPTIONS:
            raise BadRequest(f"The query parameter {name} is not supported", code="0x80060888")


def _require_tracking(entity: EntitySet) -> None:
    if not entity.change_tracking:
        raise BadRequest(f"Change tracking is not enabled for the entity '{logical_name(entity)}'.", code="0x80060888")


def _annotations_applied(preferences: dict[str, str]) -> list[str]:
    value = preferences.get("odata.include-annotations")
    return [f"odata.include-annotations={value}"] if value else []


def _count_members(total: int | None, annotations: AnnotationFilter) -> list[str]:
    """`@odata.count` (capped at 5,000) and, when asked for, the total-record-count annotations (D6)."""
    members = [f'"@odata.count":{min(total, MAX_PAGE_SIZE)}'] if total is not None else []
    if annotations.wants(TOTAL_RECORD_COUNT):
        members.append(f'"@{TOTAL_RECORD_COUNT}":{-1 if total is None else min(total, MAX_PAGE_SIZE)}')
    if annotations.wants(TOTAL_COUNT_LIMIT_EXCEEDED):
        members.append(f'"@{TOTAL_COUNT_LIMIT_EXCEEDED}":{json.dumps(total is not None and total > MAX_PAGE_SIZE)}')
    return members


def _served_columns(entity: EntitySet, selected: list[Column] | None) -> list[Column]:
    """Selected columns plus the primary key (and the currency of money columns), or every column."""
    if selected is None:
        return list(entity.served)
    columns = list(selected)
    currency = entity.column(CURRENCY_LOOKUP)
    if currency and currency not in columns and any(c.type == "money" for c in columns):
        columns.append(currency)  # money drags in its currency (D4)
    key = entity.column(entity.key[0])
    return columns if key in columns else [*columns, key]


def _link(request: Request, name: str, value: str) -> str:
    """The same URL on this origin with `name` set to `value` (absolute, opaque to clients)."""
    options = [(n, v) for n, v in request.query if n not in ("$skiptoken", name)]
    options.append((name, value))
    query = "&".join(f"{quote(n, safe='$')}={quote(v, safe='')}" for n, v in options)
    return f"{request.origin}{quote(request.path)}?{query}"
