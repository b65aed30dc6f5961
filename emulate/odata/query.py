"""`$select`, `$orderby`, `$top`/`$skip`, `$expand` parsing, and the SQL that serves a page as JSON.

Each row is serialized to JSON inside DuckDB (`json_object`), for the page's rows alone, so
a page costs the same deep into a large table. A page whose rows read other rows (annotations,
`$expand`) is built whole by one query (`page_json`); how a page of plain rows is served, from
cached texts or stored bodies, is emulate/odata/pages.py.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from emulate.json_cache import SEPARATOR
from emulate.odata.filter import FilterRules
from emulate.schema import DUCKDB_TYPES, Column, EntitySet

Order = list[tuple[Column, bool]]  # (column, descending)
Field = tuple[str, exp.Expression]  # a JSON member: name and SQL value
ROW = "row"  # alias of the served table in a page query (expansions correlate on it)
_ROWID, _POSITION = "_p2c_rowid", "_p2c_sort"
_VERSIONS = ("versionnumber", "RecVersion")  # bumped by every write path (Dataverse, F&O)


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


def ordered(subject: exp.Expression, descending: bool) -> exp.Ordered:
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
    picked = picked.order_by(*(ordered(subject, descending) for subject, descending in terms))
    if limit is not None:
        picked = picked.limit(limit)
    if isinstance(offset, exp.Expression) or offset:
        picked = picked.offset(offset)
    return picked, terms


def _page_sort(terms: list[tuple[exp.Expression, bool]]) -> list[exp.Ordered]:
    return [ordered(exp.column(f"{_POSITION}{i}", table=exp.to_identifier("page", quoted=True), quoted=True), descending)
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
        ordered(exp.column(f"{_POSITION}{i}", quoted=True), descending) for i, (_, descending) in enumerate(terms)])),
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


def identity_column(entity: EntitySet) -> Column:
    """What names a row for good: F&O's RecId, else the (single-column) primary key."""
    if any(column.name == "RecId" for column in entity.columns):
        return entity.stored_column("RecId")
    return entity.column(entity.key[0])


def row_identity(entity: EntitySet) -> exp.Expression:
    """The row's identity as served: GUIDs as text."""
    column = identity_column(entity)
    return exp.cast(column_ref(column), "VARCHAR") if column.type == "guid" else column_ref(column)


def picked_rows(entity: EntitySet, where: exp.Expression | None, order: Order, limit: int | None,
                offset: Offset = 0) -> exp.Select:
    """(identity, version) of a page's rows, in page order."""
    picked = exp.select(row_identity(entity), column_ref(row_version(entity))).from_(exp.to_table(entity.table, quoted=True))
    if where is not None:
        picked = picked.where(where)
    picked = picked.order_by(*(ordered(subject, descending) for subject, descending in sort_terms(order, entity)))
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
    identity = identity_column(entity)
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
