"""Row access for the F&O business rules and user actions, inside one store transaction.

Rows are keyed by company and natural key; every change takes a new RecVersion (so the
ETag changes) and every insert a new RecId, from the same sequences the OData writes use.
Selects and updates are built with sqlglot once per shape (`store.prepared`) and run with
their values bound, as the OData writes are.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlglot import exp

from emulate.errors import BadRequest
from emulate.schema import Column, EntitySet
from emulate.store import Cursor, Store, literal, parameter, placeholder, prepared, sql

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


@dataclass(frozen=True)
class Condition:
    """Rows whose columns equal `values` (company and string keys compared case-insensitively, as F&O does)."""

    entity: EntitySet
    values: dict

    @property
    def shape(self) -> tuple:
        return tuple(self.values)

    def template(self) -> exp.Expression:
        """The condition with `?` for each value, bound by `parameters`."""
        conditions = []
        for name in self.values:
            column = self.entity.stored_column(name)
            if column.type == "string":
                conditions.append(exp.EQ(this=exp.Lower(this=col(name)), expression=exp.Lower(this=exp.Placeholder())))
            else:
                conditions.append(exp.EQ(this=col(name), expression=placeholder(column)))
        return exp.and_(*conditions)

    def parameters(self) -> list:
        return [str(value) if self.entity.stored_column(name).type == "string" else parameter(self.entity.stored_column(name), value)
                for name, value in self.values.items()]


def where(entity: EntitySet, **values: object) -> Condition:
    """Rows whose columns equal `values` (company and string keys compared case-insensitively, as F&O does)."""
    return Condition(entity, values)


def select(cur: Cursor, entity: EntitySet, condition: Condition, *names: str, order_by: tuple[str, ...] = ()) -> list[dict]:
    names = names or tuple(c.name for c in entity.columns)
    def query() -> exp.Select:
        built = exp.select(*(col(n) for n in names)).from_(table(entity)).where(condition.template())
        return built.order_by(*(col(n) for n in order_by)) if order_by else built
    text = prepared(("fno rule select", entity.table, names, condition.shape, order_by), query)
    return [dict(zip(names, row)) for row in cur.execute(text, condition.parameters()).fetchall()]


def fetch(cur: Cursor, entity: EntitySet, *names: str, **key: object) -> dict | None:
    found = select(cur, entity, where(entity, **key), *names)
    return found[0] if found else None


def update(cur: Cursor, entity: EntitySet, condition: Condition, values: dict) -> None:
    """Set `values` on the matching rows, each with a new RecVersion."""
    columns = [entity.stored_column(n) for n in values]
    def statement() -> exp.Update:
        assignments = {exp.to_identifier(c.name, quoted=True): placeholder(c) for c in columns}
        assignments[exp.to_identifier("RecVersion", quoted=True)] = exp.func("nextval", exp.Literal.string(RECVERSION_SEQUENCE))
        return exp.update(table(entity), assignments, where=condition.template())
    text = prepared(("fno rule update", entity.table, tuple(values), condition.shape), statement)
    cur.execute(text, [*(parameter(c, values[c.name]) for c in columns), *condition.parameters()])


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
