"""`$select`, `$orderby`, `$top`/`$skip`, `$expand` parsing, and the SQL that serves a page as JSON.

Each row is serialized to JSON inside DuckDB (`json_object`). A page of plain rows read in
key order (Dataverse paging without `$orderby`) is read by key range (`key_page`): its bound
(the key of the row after it, found for many pages in one pass and checked by each page's
read), then, in one read transaction, its rows' count and a digest of their (key, version)
pairs, which names the page's body among those stored (emulate/json_cache.py `PageTexts`);
a body not stored is built by one query and stored. Any other page of plain rows comes from
the tenant's row-text cache (`RowTextCache`): a page never built before is built whole by
one query (pick and texts, each row with its identity and version) and cached; a page built
before is picked first (identities and versions only) and one more query builds the texts
it lacks (rows written since). A page whose rows read other rows (annotations, `$expand`)
is built whole by one query. Either way JSON is built for the page's rows alone, so a page
costs the same deep into a large table.
"""

import functools
import hashlib
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass

import duckdb
from sqlglot import exp

from emulate.json_cache import SEPARATOR, Page, PageTexts, Stamp, split_texts
from emulate.odata.filter import FilterRules
from emulate.schema import DUCKDB_TYPES, Column, EntitySet
from emulate.store import Cursor, Store, sql

Order = list[tuple[Column, bool]]  # (column, descending)
Field = tuple[str, exp.Expression]  # a JSON member: name and SQL value
ROW = "row"  # alias of the served table in a page query (expansions correlate on it)
_ROWID, _POSITION = "_p2c_rowid", "_p2c_sort"
_VERSIONS = ("versionnumber", "RecVersion")  # bumped by every write path (Dataverse, F&O)
HINT_PAGES = 400  # page bounds of a scan found in one pass (`PageQueries.bounds`)


@dataclass(frozen=True)
class Navigation:
    """A navigation property: the rows of `target` whose `on` columns match this row's."""

    name: str
    target: EntitySet
    on: tuple[tuple[str, str], ...]  # (column of this entity, column of target)
    single: bool  # single-valued (a lookup) or a collection


@dataclass(frozen=True)
class Expansion:
    navigation: Navigation
    columns: list[Column]  # the target's selected columns
    requested: str  # the nested `$select` text, for `@odata.context`


def parse_select(text: str | None, entity: EntitySet, rules: FilterRules) -> list[Column] | None:
    """Selected columns, or None when every column is wanted."""
    if text is None or text.strip() in ("", "*"):
        return None
    columns = []
    for name in (part.strip() for part in text.split(",")):
        column = entity.column(name)
        if column is None:
            raise rules.error(f"Could not find a property named '{name}' on type '{entity.type_name}'.")
        if column not in columns:
            columns.append(column)
    return columns


def parse_orderby(text: str | None, entity: EntitySet, rules: FilterRules) -> Order:
    order: Order = []
    for part in (text or "").split(","):
        if not part.strip():
            continue
        match = re.fullmatch(r"\s*(\S+?)(?:\s+(asc|desc))?\s*", part, re.IGNORECASE)
        column = entity.column(match.group(1)) if match else None
        if column is None:
            raise rules.error(f"Could not find a property named '{part.split()[0]}' on type '{entity.type_name}'.")
        order.append((column, (match.group(2) or "asc").lower() == "desc"))
    return order


def parse_count(name: str, text: str | None, rules: FilterRules) -> int | None:
    """A non-negative integer option such as `$top` or `$skip`."""
    if text is None:
        return None
    if not re.fullmatch(r"\d+", text.strip()):
        raise rules.error(f"Invalid value '{text}' for {name} query option found. The {name} query option requires a non-negative integer value.")
    return int(text)


def wants_count(text: str | None, rules: FilterRules) -> bool:
    """`$count=true|false`."""
    if text is None or text.strip().lower() == "false":
        return False
    if text.strip().lower() == "true":
        return True
    raise rules.error(f"'{text}' is not a valid count option.")


def split_top_level(text: str, separator: str) -> list[str]:
    """`text` split on `separator` outside parentheses and quotes."""
    parts, depth, quoted, current = [], 0, False, []
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char in "()":
            depth += 1 if char == "(" else -1
        if char == separator and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part.strip() for part in parts if part.strip()]


def parse_expand(text: str | None, entity: EntitySet, rules: FilterRules,
                 navigation: Callable[[str], Navigation | None]) -> list[Expansion]:
    """`nav($select=a,b),other` -> expansions of one level (nested `$select` only)."""
    expansions: list[Expansion] = []
    for item in split_top_level(text or "", ","):
        match = re.fullmatch(r"([A-Za-z_]\w*)\s*(?:\((.*)\))?", item, re.DOTALL)
        found = navigation(match.group(1)) if match else None
        if found is None:
            name = match.group(1) if match else item
            raise rules.error(f"Could not find a property named '{name}' on type '{entity.type_name}'.")
        requested = None
        for option in split_top_level(match.group(2) or "", ";"):
            name, _, value = option.partition("=")
            if name.strip() != "$select":
                raise rules.error(f"The query option '{name.strip()}' is not supported inside $expand; only $select is.")
            requested = value
        columns = parse_select(requested, found.target, rules) or list(found.target.served)
        expansions.append(Expansion(found, columns, requested or ""))
    return expansions


def column_ref(column: Column, table: str | None = None) -> exp.Column:
    return exp.column(column.name, table=exp.to_identifier(table, quoted=True) if table else None, quoted=True)


def sort_terms(order: Order, entity: EntitySet) -> list[tuple[exp.Expression, bool]]:
    """The requested order (case-insensitive strings), then the key: (expression, descending)."""
    terms, seen = [], set()
    for column, descending in [*order, *((entity.column(k), False) for k in entity.key)]:
        if column.name in seen:
            continue
        seen.add(column.name)
        subject = exp.Lower(this=column_ref(column)) if column.type == "string" else column_ref(column)
        terms.append((subject, descending))
    return terms


def _ordered(subject: exp.Expression, descending: bool) -> exp.Ordered:
    """NULLs sort low, as on SQL Server."""
    return exp.Ordered(this=subject, desc=descending, nulls_first=not descending)


def json_value(column: Column, table: str | None = None) -> exp.Expression:
    """The column as it appears in a JSON payload."""
    ref = column_ref(column, table)
    if column.type == "datetime":
        return exp.Anonymous(this="strftime", expressions=[ref, exp.Literal.string("%Y-%m-%dT%H:%M:%SZ")])
    if column.type == "date":
        return exp.cast(ref, "VARCHAR")
    if column.type in ("decimal", "money"):
        return exp.cast(ref, "DOUBLE")
    if column.type == "guid":
        return exp.cast(ref, "VARCHAR")
    return ref


def column_fields(columns: list[Column], table: str | None = None) -> list[Field]:
    return [(column.name, json_value(column, table)) for column in columns]


def json_object(fields: list[Field]) -> exp.Expression:
    pairs: list[exp.Expression] = []
    for name, value in fields:
        pairs += [exp.Literal.string(name), value]
    return exp.Anonymous(this="json_object", expressions=pairs)


def expansion_field(expansion: Expansion, fields: list[Field]) -> Field:
    """The expanded navigation property as nested JSON (an object or null, or an array)."""
    navigation, inner = expansion.navigation, "expanded"
    condition = exp.and_(*(exp.EQ(this=exp.column(theirs, table=exp.to_identifier(inner, quoted=True), quoted=True),
                                  expression=exp.column(ours, table=exp.to_identifier(ROW, quoted=True), quoted=True))
                           for ours, theirs in navigation.on))
    source = exp.alias_(exp.to_table(navigation.target.table, quoted=True), inner, table=True, quoted=True)
    value: exp.Expression = json_object(fields)
    if not navigation.single:
        value = exp.Coalesce(this=exp.Anonymous(this="json_group_array", expressions=[value]),
                             expressions=[exp.cast(exp.Literal.string("[]"), "JSON")])
    select = exp.select(value).from_(source).where(condition)
    return navigation.name, exp.Subquery(this=select.limit(1) if navigation.single else select)


Offset = int | exp.Placeholder  # rows skipped: a number, or a parameter (the query's last)


def _picked(entity: EntitySet, where: exp.Expression | None, order: Order, limit: int | None, offset: Offset):
    """(the page's row ids and sort values in page order, the sort terms)."""
    terms = sort_terms(order, entity)
    picked = exp.select(exp.alias_(exp.column("rowid"), _ROWID, quoted=True),
                        *(exp.alias_(subject, f"{_POSITION}{i}", quoted=True) for i, (subject, _) in enumerate(terms))) \
        .from_(exp.to_table(entity.table, quoted=True))
    if where is not None:
        picked = picked.where(where)
    picked = picked.order_by(*(_ordered(subject, descending) for subject, descending in terms))
    if limit is not None:
        picked = picked.limit(limit)
    if isinstance(offset, exp.Expression) or offset:
        picked = picked.offset(offset)
    return picked, terms


def _page_sort(terms: list[tuple[exp.Expression, bool]]) -> list[exp.Ordered]:
    return [_ordered(exp.column(f"{_POSITION}{i}", table=exp.to_identifier("page", quoted=True), quoted=True), descending)
            for i, (_, descending) in enumerate(terms)]


def _joined(entity: EntitySet, page: exp.Expression, *projection: exp.Expression) -> exp.Select:
    """`projection` over the served table joined to the picked `page` on row id."""
    table = exp.alias_(exp.to_table(entity.table, quoted=True), ROW, table=True, quoted=True)
    return exp.select(*projection).from_(table) \
        .join(exp.alias_(exp.Subquery(this=page), "page", table=True, quoted=True),
              on=exp.EQ(this=exp.column("rowid", table=exp.to_identifier(ROW, quoted=True)),
                        expression=exp.column(_ROWID, table=exp.to_identifier("page", quoted=True), quoted=True)))


def page_select(entity: EntitySet, fields: list[Field], where: exp.Expression | None, order: Order,
                limit: int | None, offset: int = 0, extra: list[exp.Expression] = ()) -> exp.Select:
    """One page of rows, each a JSON object string (then `extra` columns), in page order.

    The page's row ids and sort values are picked first; JSON is built for those rows only.
    """
    picked, terms = _picked(entity, where, order, limit, offset)
    return _joined(entity, picked, exp.cast(json_object(fields), "VARCHAR"), *extra).order_by(*_page_sort(terms))


def page_json(entity: EntitySet, fields: list[Field], where: exp.Expression | None, order: Order, size: int,
              offset: int = 0, key: exp.Expression | None = None) -> exp.Select:
    """One row for a whole page: (its rows as comma-joined JSON bytes, rows found up to size + 1, first and last key).

    Joining and encoding inside DuckDB spares Python 5,000 strings per page; the extra row
    fetched tells whether another page follows.
    """
    picked, terms = _picked(entity, where, order, size + 1, offset)
    position = exp.column("_p2c_n", table=exp.to_identifier("page", quoted=True), quoted=True)
    numbered = exp.select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
        _ordered(exp.column(f"{_POSITION}{i}", quoted=True), descending) for i, (_, descending) in enumerate(terms)])),
        "_p2c_n", quoted=True)).from_(exp.Subquery(this=picked))
    in_page = exp.LTE(this=position, expression=exp.Literal.number(size))
    rows = exp.GroupConcat(this=exp.Order(this=exp.cast(json_object(fields), "VARCHAR"), expressions=[exp.Ordered(this=position)]),
                           separator=exp.Literal.string(","))
    key = key if key is not None else exp.null()
    return _joined(entity, numbered,
                   exp.Anonymous(this="encode", expressions=[exp.Filter(this=rows, expression=exp.Where(this=in_page))]),
                   exp.Count(this=exp.Star()),
                   exp.Filter(this=exp.ArgMin(this=key, expression=position), expression=exp.Where(this=in_page)),
                   exp.Filter(this=exp.ArgMax(this=key, expression=position), expression=exp.Where(this=in_page)))


def row_version(entity: EntitySet) -> Column | None:
    """The column every write renews (so a row's JSON text can be reused while it holds), if any."""
    names = {column.name for column in entity.columns}
    return next((entity.stored_column(name) for name in _VERSIONS if name in names), None)


def cacheable(entity: EntitySet, fields: list[Field]) -> bool:
    """Whether rows' texts may be cached: every write renews the row's version and the members read this row
    alone (no subquery into other rows, as formatted lookup names and `$expand` have)."""
    return row_version(entity) is not None and not any(value.find(exp.Subquery, exp.Exists) for _, value in fields)


def _identity_column(entity: EntitySet) -> Column:
    """What names a row for good: F&O's RecId, else the (single-column) primary key."""
    if any(column.name == "RecId" for column in entity.columns):
        return entity.stored_column("RecId")
    return entity.column(entity.key[0])


def row_identity(entity: EntitySet) -> exp.Expression:
    """The row's identity as served: GUIDs as text."""
    column = _identity_column(entity)
    return exp.cast(column_ref(column), "VARCHAR") if column.type == "guid" else column_ref(column)


def picked_rows(entity: EntitySet, where: exp.Expression | None, order: Order, limit: int | None,
                offset: Offset = 0) -> exp.Select:
    """(identity, version) of a page's rows, in page order."""
    picked = exp.select(row_identity(entity), column_ref(row_version(entity))).from_(exp.to_table(entity.table, quoted=True))
    if where is not None:
        picked = picked.where(where)
    picked = picked.order_by(*(_ordered(subject, descending) for subject, descending in sort_terms(order, entity)))
    if limit is not None:
        picked = picked.limit(limit)
    return picked.offset(offset) if isinstance(offset, exp.Expression) or offset else picked


def page_rows(entity: EntitySet, fields: list[Field], where: exp.Expression | None, order: Order, limit: int | None,
              offset: Offset = 0) -> exp.Select:
    """(identity, version, JSON text as bytes) of a page's rows, in page order: `picked_rows` and `row_texts` in one query."""
    picked, terms = _picked(entity, where, order, limit, offset)
    text = exp.Anonymous(this="encode", expressions=[exp.cast(json_object(fields), "VARCHAR")])
    return _joined(entity, picked, row_identity(entity), column_ref(row_version(entity)), text).order_by(*_page_sort(terms))


def row_texts(entity: EntitySet, fields: list[Field]) -> exp.Select:
    """The JSON texts of the rows whose identities are the one parameter (a list), in its order, newline-joined."""
    identity = _identity_column(entity)
    wanted = exp.to_identifier("wanted", quoted=True)
    ids, position = exp.column("ids", quoted=True), exp.column("_p2c_n", table=wanted, quoted=True)
    listed = exp.select(exp.alias_(exp.cast(exp.Placeholder(), f"{DUCKDB_TYPES[identity.type]}[]"), "ids", quoted=True))
    numbered = exp.select(exp.alias_(exp.Anonymous(this="unnest", expressions=[ids]), "_p2c_id", quoted=True),
                          exp.alias_(exp.Anonymous(this="unnest", expressions=[exp.Anonymous(this="range", expressions=[
                              exp.Anonymous(this="len", expressions=[ids])])]), "_p2c_n", quoted=True)) \
        .from_(exp.Subquery(this=listed))
    texts = exp.GroupConcat(this=exp.Order(this=exp.cast(json_object(fields), "VARCHAR"), expressions=[exp.Ordered(this=position)]),
                            separator=exp.Literal.string(SEPARATOR.decode()))
    return exp.select(exp.Anonymous(this="encode", expressions=[texts])) \
        .from_(exp.alias_(exp.to_table(entity.table, quoted=True), ROW, table=True, quoted=True)) \
        .join(exp.alias_(exp.Subquery(this=numbered), wanted, table=True, quoted=True),
              on=exp.EQ(this=column_ref(identity, ROW), expression=exp.column("_p2c_id", table=wanted, quoted=True)))


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
        self.where = exp.and_(*(part for part in (_paren(where), _after(entity) if after else None) if part is not None)) \
            if after else where
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
            and _identity_column(self.entity) == key

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
            .order_by(_ordered(key, False)).limit(self.size + 1)
        position = exp.column("_p2c_n", quoted=True)
        numbered = exp.select(exp.Star(), exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
            _ordered(exp.column(column.name, quoted=True), False)])), "_p2c_n", quoted=True)).from_(exp.Subquery(this=picked))
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
            .order_by(_ordered(key, False)).limit(self.size * HINT_PAGES + 1)
        position = exp.column("_p2c_n", quoted=True)
        numbered = exp.select(exp.alias_(exp.column(column.name, quoted=True), "_p2c_key", quoted=True),
                              exp.alias_(exp.Window(this=exp.RowNumber(), order=exp.Order(expressions=[
                                  _ordered(exp.column(column.name, quoted=True), False)])), "_p2c_n", quoted=True)) \
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
        return sql(exp.select(text).from_(table).where(self._up_to()).order_by(_ordered(key, False)))


def _digest(key: exp.Expression, version: exp.Expression) -> exp.Expression:
    """A digest of the rows' (key, version) pairs in key order."""
    pairs = exp.DPipe(this=exp.DPipe(this=exp.cast(key, "VARCHAR"), expression=exp.Literal.string(":")),
                      expression=exp.cast(version, "VARCHAR"))
    return exp.Anonymous(this="sha256", expressions=[exp.GroupConcat(
        this=exp.Order(this=pairs, expressions=[_ordered(key.copy(), False)]), separator=exp.Literal.string(","))])


def _served_key(column: Column, value: exp.Expression) -> exp.Expression:
    """A key value as pages name rows (`row_identity`): GUIDs as text."""
    return exp.cast(value, "VARCHAR") if column.type == "guid" else value


def _paren(where: exp.Expression | None) -> exp.Expression | None:
    return exp.Paren(this=where) if where is not None else None


def _after(entity: EntitySet) -> exp.Expression:
    """The key after the previous page's last (a parameter)."""
    column = entity.column(entity.key[0])
    return exp.GT(this=column_ref(column), expression=exp.cast(exp.Placeholder(), DUCKDB_TYPES[column.type]))


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
    page = store.page_texts.served((queries.key, *parameters), store.generation)
    return page if page is not None else key_pages(store, queries, parameters)[0]


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


def count_select(entity: EntitySet, where: exp.Expression | None) -> exp.Select:
    select = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(entity.table, quoted=True))
    return select.where(where) if where is not None else select


def context_suffix(entity: EntitySet, selected: list[Column] | None, requested: str | None,
                   expansions: list[Expansion] = ()) -> str:
    """`accounts`, `accounts(name,accountnumber)` or `accounts(name,primarycontactid(fullname))` for `@odata.context`."""
    parts = [part.strip() for part in (requested or "").split(",") if part.strip()] if selected is not None else []
    for expansion in expansions:
        inner = ",".join(part.strip() for part in expansion.requested.split(",") if part.strip())
        parts.append(f"{expansion.navigation.name}({inner})" if inner else f"{expansion.navigation.name}()")
    return f"{entity.name}({','.join(parts)})" if parts else entity.name
