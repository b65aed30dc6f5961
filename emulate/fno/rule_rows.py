"""Row access for the F&O business rules and user actions, inside one store transaction.

Rows are keyed by company and natural key; every change takes a new RecVersion (so the
ETag changes) and every insert a new RecId, from the same sequences the OData writes use.
"""

import datetime as dt
from decimal import Decimal

from sqlglot import exp

from emulate.errors import BadRequest
from emulate.schema import Column, EntitySet
from emulate.store import Cursor, Store, literal, sql

RECID_SEQUENCE, RECVERSION_SEQUENCE = "fno_recid", "fno_recversion"
WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
EMPTY_DATE = dt.datetime(1900, 1, 1)  # F&O's "no date"


def write_failed(entity: EntitySet, infolog: str) -> BadRequest:
    """The error F&O answers when X++ validation refuses a write (the infolog line is the reason)."""
    return BadRequest(f"Write failed for table row of type '{entity.entity_class}'. Infolog: Error: {infolog}", kind=WRITE_EXCEPTION)


def blank(entity: EntitySet, column: Column) -> object:
    """The value F&O stores for a field nobody filled in."""
    if column.type == "enum":
        return entity.enums[column.enum][0]
    if column.type == "string":
        return ""
    if column.type == "datetime":
        return EMPTY_DATE
    return 0


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def table(entity: EntitySet) -> exp.Table:
    return exp.to_table(entity.table, quoted=True)


def where(entity: EntitySet, **values: object) -> exp.Expression:
    """Rows whose columns equal `values` (company and string keys compared case-insensitively, as F&O does)."""
    conditions = []
    for name, value in values.items():
        column = entity.stored_column(name)
        if column.type == "string":
            conditions.append(exp.EQ(this=exp.Lower(this=col(name)), expression=exp.Lower(this=exp.Literal.string(str(value)))))
        else:
            conditions.append(exp.EQ(this=col(name), expression=literal(column, value)))
    return exp.and_(*conditions)


def select(cur: Cursor, entity: EntitySet, condition: exp.Expression, *names: str, order_by: tuple[str, ...] = ()) -> list[dict]:
    names = names or tuple(c.name for c in entity.columns)
    query = exp.select(*(col(n) for n in names)).from_(table(entity)).where(condition)
    if order_by:
        query = query.order_by(*(col(n) for n in order_by))
    return [dict(zip(names, row)) for row in cur.execute(sql(query)).fetchall()]


def fetch(cur: Cursor, entity: EntitySet, *names: str, **key: object) -> dict | None:
    found = select(cur, entity, where(entity, **key), *names)
    return found[0] if found else None


def update(cur: Cursor, entity: EntitySet, condition: exp.Expression, values: dict) -> None:
    """Set `values` on the matching rows, each with a new RecVersion."""
    assignments = {exp.to_identifier(n, quoted=True): literal(entity.stored_column(n), v) for n, v in values.items()}
    assignments[exp.to_identifier("RecVersion", quoted=True)] = exp.func("nextval", exp.Literal.string(RECVERSION_SEQUENCE))
    cur.execute(sql(exp.update(table(entity), assignments, where=condition)))


def insert_stored(cur: Cursor, entity: EntitySet, values: dict) -> None:
    """Store a complete row (blanks filled in), with new RecId and RecVersion."""
    row = {c.name: blank(entity, c) for c in entity.columns}
    row.update(values)
    row["RecId"] = Store.next_value(cur, RECID_SEQUENCE)
    row["RecVersion"] = Store.next_value(cur, RECVERSION_SEQUENCE)
    columns = list(entity.columns)
    cur.execute(sql(exp.insert(exp.values([tuple(literal(c, row[c.name]) for c in columns)]), table(entity),
                               columns=[exp.to_identifier(c.name, quoted=True) for c in columns])))


def money(value: object) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))
