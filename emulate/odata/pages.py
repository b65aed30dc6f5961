"""Serving a page of plain rows (no annotations, no `$expand`): from stored bodies or cached row texts.

A page read in key order (Dataverse paging without `$orderby`) is read by key range
(`key_page`): its bound (the key of the row after it, found for many pages in one pass and
checked by each page's read), then, in one read transaction, its rows' count and a digest of
their (key, version) pairs, which names the page's body among those stored
(emulate/json_cache.py `PageTexts`); a body not stored is built by one query and stored. Any
other page comes from the tenant's row-text cache (`RowTextCache`, `cached_page`): a page never
built before is built whole by one query (pick and texts, each row with its identity and
version) and cached; a page built before is picked first (identities and versions only) and
one more query builds the texts it lacks (rows written since).
"""

import functools
import hashlib
from collections.abc import Hashable
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from emulate.json_cache import Page, PageTexts, Stamp, split_texts
from emulate.odata.query import (ROW, Field, Offset, Order, column_ref, identity_column, json_object, ordered, page_rows,
                                 picked_rows, row_texts, row_version)
from emulate.schema import DUCKDB_TYPES, Column, EntitySet
from emulate.store import Cursor, Store, sql

HINT_PAGES = 400  # page bounds of a scan found in one pass (`PageQueries.bounds`)


class PageQueries:
    """The queries of one page of plain rows (one more row picked, to tell whether another follows), each compiled
    when first needed, and the keys the row-text cache files them under: `key` names the page among the service's
    request shapes (with the query parameters, one page), `shape_key` the row shape (the table and the members).

    `where` is the request's condition; with `after` the first parameter is the last key of the previous page
    (Dataverse paging), and the page's rows are those after it too. An `offset` of None makes the rows skipped the
    last parameter of `pick` and `rows`: one compiled query serves every `$skip` of a scan (F&O paging).
    """

    def __init__(self, key: Hashable, entity: EntitySet, fields: list[Field], where: exp.Expression | None, order: Order,
                 size: int, offset: int | None, after: bool = False) -> None:
        self.key, self.entity, self.fields, self.order, self.size, self.offset = key, entity, fields, order, size, offset
        self.filter, self.after = where, after
        self.where = keyset_condition(entity, where) if after else where
        self.shape_key = (entity.table, tuple(name for name, _ in fields))

    @property
    def _offset(self) -> Offset:
        return exp.Placeholder() if self.offset is None else self.offset

    @functools.cached_property
    def pick(self) -> str:
        return sql(picked_rows(self.entity, self.where, self.order, self.size + 1, self._offset))

    @functools.cached_property
    def texts(self) -> str:
        return sql(row_texts(self.entity, self.fields))

    @functools.cached_property
    def rows(self) -> str:
        return sql(page_rows(self.entity, self.fields, self.where, self.order, self.size + 1, self._offset))

    @functools.cached_property
    def by_key(self) -> bool:
        """Whether the page is read in key order from its start (no `$orderby`, no offset, one key column compared
        as stored and naming the row), so that it is read by key range (`key_page`)."""
        key = self.entity.column(self.entity.key[0])
        return not self.order and self.offset == 0 and len(self.entity.key) == 1 and key.type != "string" \
            and identity_column(self.entity) == key

    @functools.cached_property
    def chain(self) -> Hashable:
        """What every page of this scan shares (the page bounds of `bounds` are filed under it)."""
        return (self.entity.table, sql(self.filter) if self.filter is not None else None, self.size)

    @functools.cached_property
    def stored_shape(self) -> str:
        """The row shape and page size a stored body is built for (with its rows, its content key)."""
        text = sql(json_object(self.fields))
        return hashlib.sha256(f"{self.entity.table}\0{text}\0{self.size}\0{duckdb.__version__}".encode()).hexdigest()

    def _key(self) -> tuple[Column, exp.Expression]:
        column = self.entity.column(self.entity.key[0])
        return column, column_ref(column)

    def _up_to(self) -> exp.Expression:
        """The page's condition and its key up to a bound (the last parameter)."""
        column, key = self._key()
        upto = exp.LTE(this=key, expression=exp.cast(exp.Placeholder(), DUCKDB_TYPES[column.type]))
        return upto if self.where is None else exp.and_(exp.Paren(this=self.where), upto)

    @functools.cached_property
    def first_summary(self) -> str:
        """`summary` of the page's first size + 1 rows, found by a top-N of the key column (and the version) alone,
        with their bound (the last of them) first: for a page whose bound is not known (one query, not two)."""
        column, key = self._key()
        version = column_ref(row_version(self.entity))
        picked = exp.select(key, version).from_(exp.to_table(self.entity.table, quoted=True)).where(self.where) \
            .order_by(ordered(key, False)).limit(self.size + 1)
        position = exp.column("_p2c_n", quoted=True)
        numbered = exp.select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            ordered(exp.column(column.name, quoted=True), False)])), "_p2c_n", quoted=True)).from_(exp.Subquery(this=picked))
        key, version = exp.column(column.name, quoted=True), exp.column(version.name, quoted=True)
        in_page = exp.Where(this=exp.LTE(this=position, expression=exp.Literal.number(self.size)))
        return sql(exp.select(_served_key(column, exp.Max(this=key)), exp.Count(this=exp.Star()), exp.true(),
                              _served_key(column, exp.Min(this=key)), _served_key(column, exp.Filter(this=exp.Max(this=key), expression=in_page)),
                              exp.Max(this=version), exp.Count(this=version.copy()), _digest(key, version))
                   .from_(exp.Subquery(this=numbered)))

    @functools.cached_property
    def bounds(self) -> str:
        """(key as text, position) of the rows at each page's end and one past it, for `HINT_PAGES` pages from this
        one: the bounds of the pages after it in one pass over the key column (`PageTexts.hint`)."""
        column, key = self._key()
        keys = exp.select(key).from_(exp.to_table(self.entity.table, quoted=True)).where(self.where) \
            .order_by(ordered(key, False)).limit(self.size * HINT_PAGES + 1)
        position = exp.column("_p2c_n", quoted=True)
        numbered = exp.select(exp.alias_(exp.column(column.name, quoted=True), "_p2c_key", quoted=True),
                              exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
                                  ordered(exp.column(column.name, quoted=True), False)])), "_p2c_n", quoted=True)) \
            .from_(exp.Subquery(this=keys))
        at_ends = exp.In(this=exp.Mod(this=position, expression=exp.Literal.number(self.size)),
                         expressions=[exp.Literal.number(0), exp.Literal.number(1 % self.size)])
        return sql(exp.select(_served_key(column, exp.column("_p2c_key", quoted=True)), position)
                   .from_(exp.Subquery(this=numbered)).where(at_ends).order_by(position))

    @functools.cached_property
    def summary(self) -> str:
        """One row for the page's rows up to a bound (parameters: the bound twice, the page's, the bound): how many, whether
        the bound is one of them, the first key and the last below the bound (as served), the highest version, how many
        rows have one, and a digest of every row's (key, version) in key order."""
        column, key = self._key()
        version = column_ref(row_version(self.entity))
        bound = exp.cast(exp.Placeholder(), DUCKDB_TYPES[column.type])
        return sql(exp.select(
            exp.Count(this=exp.Star()),
            exp.Filter(this=exp.Count(this=exp.Star()), expression=exp.Where(this=exp.EQ(this=key, expression=bound))),
            _served_key(column, exp.Min(this=key)),
            _served_key(column, exp.Filter(this=exp.Max(this=key), expression=exp.Where(this=exp.LT(this=key, expression=bound.copy())))),
            exp.Max(this=version), exp.Count(this=version.copy()), _digest(key, version))
            .from_(exp.to_table(self.entity.table, quoted=True)).where(self._up_to()))

    @functools.cached_property
    def body(self) -> str:
        """The JSON text (as bytes) of each of the page's rows up to a bound (the last parameter), in key order."""
        column, key = self._key()
        text = exp.Anonymous(this="encode", expressions=[exp.cast(json_object(self.fields), "VARCHAR")])
        table = exp.alias_(exp.to_table(self.entity.table, quoted=True), ROW, table=True, quoted=True)  # members may name it
        return sql(exp.select(text).from_(table).where(self._up_to()).order_by(ordered(key, False)))


def _digest(key: exp.Expression, version: exp.Expression) -> exp.Expression:
    """A digest of the rows' (key, version) pairs in key order."""
    pairs = exp.DPipe(this=exp.DPipe(this=exp.cast(key, "VARCHAR"), expression=exp.Literal.string(":")),
                      expression=exp.cast(version, "VARCHAR"))
    return exp.Anonymous(this="sha256", expressions=[exp.GroupConcat(
        this=exp.Order(this=pairs, expressions=[ordered(key.copy(), False)]), separator=exp.Literal.string(","))])


def _served_key(column: Column, value: exp.Expression) -> exp.Expression:
    """A key value as pages name rows (`row_identity`): GUIDs as text."""
    return exp.cast(value, "VARCHAR") if column.type == "guid" else value


def keyset_condition(entity: EntitySet, where: exp.Expression | None) -> exp.Expression:
    """`where` and a key after the previous page's last (a parameter): the rows of a page read by key after the first."""
    column = entity.column(entity.key[0])
    after = exp.GT(this=column_ref(column), expression=exp.cast(exp.Placeholder(), DUCKDB_TYPES[column.type]))
    return after if where is None else exp.and_(exp.Paren(this=where), after)


@dataclass(frozen=True)
class _Summary:
    """`PageQueries.summary` (or `first_summary`) of the rows up to `bound`."""

    bound: object
    count: int
    at_bound: bool
    first: object
    last: object  # the last row below the bound
    version: int
    versioned: int  # rows with a version
    digest: str


def cached_page(store: Store, queries: PageQueries, parameters: list) -> Page:
    """A page from the store's row-text cache (a page read by key: `key_page`).

    Served before and no write committed since: the page as served. A page built before: the
    pick, then the texts it lacks, in one read transaction (texts and versions agree). A page
    never built: the pick and texts in one query (`page_rows`).
    """
    if queries.by_key:
        return key_page(store, queries, parameters)
    cache, shape_key, size = store.row_texts, queries.shape_key, queries.size
    page_key, generation = (queries.key, *parameters), store.generation  # the generation before reading
    page = cache.served(shape_key, page_key, generation)
    if page is not None:
        return page
    built = cache.built(page_key)
    if not built:
        with store.reading() as cur:
            found = cur.execute(queries.rows, parameters).fetchall()
        picked = [(row_id, version) for row_id, version, _ in found]
        rows = [text for _, _, text in found[:size]]
        kept = cache.put(shape_key, picked[:size], rows)
    else:
        with store.snapshot() as cur:
            picked = cur.execute(queries.pick, parameters).fetchall()
            rows, kept = cache.page(shape_key, picked[:size], lambda ids: split_texts(cur.execute(queries.texts, [ids]).fetchone()[0]))
    cache.note_built(page_key)
    more = len(picked) > size
    page = Page(rows, len(picked), picked[0][0] if more else None, picked[size - 1][0] if more else None)
    if kept:  # a page kept as served holds the cache's own texts: no bytes beyond its budget
        cache.keep_served(shape_key, page_key, generation, page)
    return page


def key_page(store: Store, queries: PageQueries, parameters: list) -> Page:
    """A page read in key order: its rows are those up to a bound key (the (size + 1)th row's, or the last row's).

    Served before and no write committed since: the page as served. Else `key_pages`.
    """
    page = served_key_page(store, queries, parameters)
    return page if page is not None else key_pages(store, queries, parameters)[0]


def served_key_page(store: Store, queries: PageQueries, parameters: list) -> Page | None:
    """The page read by key that `parameters` name, as served (or built ahead) while no write has committed since."""
    return store.page_texts.served((queries.key, *parameters), store.generation)


def key_pages(store: Store, queries: PageQueries, parameters: list, most: int = 1) -> list[Page]:
    """The page `parameters` name and, with `after`, up to `most` - 1 pages following it whose bounds are known,
    each kept as served.

    In one read transaction: each page's bound (`_summarize`: the pages after the first stop at
    the first bound not known or not confirmed), its rows' count and content digest, and the
    body stored under that content (`PageTexts`); the bodies not stored are built (each run of
    consecutive pages by one query: a query's fixed cost is paid once for them all) and stored.
    """
    pages, size = store.page_texts, queries.size
    generation = store.generation  # before reading
    with store.snapshot() as cur:
        run = [(list(parameters), _summarize(cur, pages, queries, parameters))]
        while queries.after and len(run) < most and run[-1][1] is not None and run[-1][1].count > size:
            after = run[-1][1].last
            bound = pages.hint(queries.chain, after)
            following = _summary(cur, queries, [after], bound) if bound is not None else None
            if following is None or following.count != size + 1 or not following.at_bound:
                break  # that page's own read finds its bound
            run.append(([after], following))
        bodies = [_stored_body(pages, queries, summary) for _, summary in run]
        first = 0
        while first < len(run):
            if bodies[first] is not None:
                first += 1
                continue
            last = first
            while last + 1 < len(run) and bodies[last + 1] is None:
                last += 1
            bodies[first:last + 1] = _built_bodies(cur, pages, queries, run[first:last + 1])
            first = last + 1
    built = []
    for (page_parameters, summary), body in zip(run, bodies):
        more = summary is not None and summary.count > size
        page = Page([body] if body else [], summary.count if summary else 0, summary.first if more else None,
                    summary.last if more else None)
        pages.keep_served((queries.key, *page_parameters), generation, page)
        built.append(page)
    return built


def _content(queries: PageQueries, summary: _Summary) -> str | None:
    """The key a page's body is stored under (its row shape and rows), None when it is never stored (a row without a
    version could change unseen)."""
    if summary.versioned != summary.count:
        return None
    return hashlib.sha256(f"{queries.stored_shape}\0{summary.count}\0{summary.digest}".encode()).hexdigest()


def _stored_body(pages: PageTexts, queries: PageQueries, summary: _Summary | None) -> bytes | None:
    """The body of a page as stored (empty for a page without rows), None when it must be built."""
    if summary is None:
        return b""
    content = _content(queries, summary)
    return pages.find(content) if content is not None else None


def _built_bodies(cur: Cursor, pages: PageTexts, queries: PageQueries, run: list[tuple[list, _Summary]]) -> list[bytes]:
    """Build (and store) the bodies of consecutive pages by one query: the rows from after the first page's start
    up to the last page's end, in key order, split by each page's row count (the ranges follow one another)."""
    size = queries.size
    end = run[-1][1]
    texts = [text for text, in cur.execute(queries.body, [*run[0][0], end.last if end.count > size else end.bound]).fetchall()]
    counts = [min(summary.count, size) for _, summary in run]
    if len(texts) != sum(counts):
        raise RuntimeError(f"built {len(texts)} row texts for pages of {counts} rows")
    bodies, start = [], 0
    for (_, summary), count in zip(run, counts):
        body = b",".join(texts[start:start + count])
        start += count
        content = _content(queries, summary)
        if content is not None:
            pages.add(content, body, Stamp(queries.entity.table, row_version(queries.entity).name, summary.version))
        bodies.append(body)
    return bodies


def _summarize(cur: Cursor, pages: PageTexts, queries: PageQueries, parameters: list) -> _Summary | None:
    """The page's summary, None when it has no rows. Its bound is the one `pages` holds for it if the rows confirm it
    (size + 1 rows up to it, it among them: the (size + 1)th key by definition), else found now: after the first page,
    with the bounds of the pages after it (`PageQueries.bounds`), else (or at the end) with the summary itself, from
    a top-N (`PageQueries.first_summary`)."""
    after = parameters[0] if queries.after else None
    hint = pages.hint(queries.chain, after)
    if hint is not None:
        summary = _summary(cur, queries, parameters, hint)
        if summary.count == queries.size + 1 and summary.at_bound:
            return summary
        pages.forget_hints(queries.chain)  # rows were written since: the bounds moved
    if after is not None or hint is not None:
        bound = _keep_bounds(cur, pages, queries, parameters, after)
        if bound is not None:
            return _summary(cur, queries, parameters, bound)
    bound, *found = cur.execute(queries.first_summary, parameters).fetchone()
    return _Summary(bound, *found) if bound is not None else None


def _summary(cur: Cursor, queries: PageQueries, parameters: list, bound: object) -> _Summary:
    count, at_bound, first, last, version, versioned, digest = cur.execute(queries.summary, [bound, bound, *parameters, bound]).fetchone()
    return _Summary(bound, count, bool(at_bound), first, last, version, versioned, digest)


def _keep_bounds(cur: Cursor, pages: PageTexts, queries: PageQueries, parameters: list, after: object) -> object | None:
    """Find the bounds of this page and the ones after it, keep them as hints; returns this page's, if it has one
    (the last page of a scan has not: fewer than size + 1 rows follow)."""
    size, keys = queries.size, dict((position, key) for key, position in cur.execute(queries.bounds, parameters).fetchall())
    bounds, before = {}, after
    for page in range(1, HINT_PAGES + 1):
        bound = keys.get(page * size + 1)
        if bound is None or (page > 1 and before is None):
            break
        bounds[before] = bound
        before = keys.get(page * size)
    pages.keep_hints(queries.chain, bounds)
    return bounds.get(after)


def page_body(head: str, rows: list[bytes], tail: str) -> bytes:
    """`head` + the rows' JSON comma-joined + `tail`, copied once (a page is megabytes)."""
    if not rows:
        return (head + tail).encode()
    if len(rows) == 1:  # a page read by key: one body
        return b"".join((head.encode(), rows[0], tail.encode()))
    rows = list(rows)
    rows[0] = head.encode() + rows[0]
    rows[-1] = rows[-1] + tail.encode()
    return b",".join(rows)
