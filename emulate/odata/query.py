"""`$select`, `$orderby`, `$top`/`$skip` parsing, and the SQL that serves a page as JSON.

Each row is serialized to JSON inside DuckDB (`json_object`), so a page costs one query
and a string join.
"""

import re

from sqlglot import exp

from emulate.odata.filter import FilterRules
from emulate.schema import Column, EntitySet

Order = list[tuple[Column, bool]]  # (column, descending)


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


def column_ref(column: Column) -> exp.Column:
    return exp.column(column.name, quoted=True)


def ordered(order: Order, entity: EntitySet) -> list[exp.Ordered]:
    """ORDER BY terms: the requested order (case-insensitive, NULLs first as SQL Server), then the key."""
    terms, seen = [], set()
    for column, descending in [*order, *((entity.column(k), False) for k in entity.key)]:
        if column.name in seen:
            continue
        seen.add(column.name)
        subject = exp.Lower(this=column_ref(column)) if column.type == "string" else column_ref(column)
        terms.append(exp.Ordered(this=subject, desc=descending, nulls_first=not descending))
    return terms


def json_value(column: Column) -> exp.Expression:
    """The column as it appears in a JSON payload."""
    ref = column_ref(column)
    if column.type == "datetime":
        return exp.Anonymous(this="strftime", expressions=[ref, exp.Literal.string("%Y-%m-%dT%H:%M:%SZ")])
    if column.type == "decimal":
        return exp.cast(ref, "DOUBLE")
    if column.type == "guid":
        return exp.cast(ref, "VARCHAR")
    return ref


def row_json(columns: list[Column], etag: exp.Expression) -> exp.Expression:
    """`json_object('@odata.etag', ..., 'col', col, ...)` as VARCHAR."""
    pairs: list[exp.Expression] = [exp.Literal.string("@odata.etag"), etag]
    for column in columns:
        pairs += [exp.Literal.string(column.name), json_value(column)]
    return exp.cast(exp.Anonymous(this="json_object", expressions=pairs), "VARCHAR")


def page_select(entity: EntitySet, columns: list[Column], etag: exp.Expression, where: exp.Expression | None,
                order: Order, limit: int | None, offset: int = 0) -> exp.Select:
    """One page of rows, each a JSON object string."""
    select = exp.select(row_json(columns, etag)).from_(exp.to_table(entity.table, quoted=True))
    if where is not None:
        select = select.where(where)
    select = select.order_by(*ordered(order, entity))
    if limit is not None:
        select = select.limit(limit)
    return select.offset(offset) if offset else select


def count_select(entity: EntitySet, where: exp.Expression | None) -> exp.Select:
    select = exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(entity.table, quoted=True))
    return select.where(where) if where is not None else select


def context_suffix(entity: EntitySet, selected: list[Column] | None, requested: str | None) -> str:
    """`accounts` or `accounts(name,accountnumber)` for `@odata.context`."""
    if selected is None:
        return entity.name
    return f"{entity.name}({','.join(part.strip() for part in (requested or '').split(','))})"
