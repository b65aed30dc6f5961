"""Row access for the Sales business rules, inside the write's transaction.

Rows a rule changes or adds are stamped like any other write (new `modifiedon`, new
`versionnumber`), so change tracking and ETags see them; they do not run the hooks again.
"""

import datetime as dt
import uuid

from sqlglot import exp

from emulate.dataverse.changes import record_deletion
from emulate.schema import EntitySet
from emulate.store import Cursor, literal, sql

VERSION_SEQUENCE = "sales_versionnumber"


def col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def table(entity: EntitySet) -> exp.Table:
    return exp.to_table(entity.table, quoted=True)


def eq(entity: EntitySet, name: str, value: object) -> exp.Expression:
    return exp.EQ(this=col(name), expression=literal(entity.stored_column(name), value))


def by_id(entity: EntitySet, row_id: str) -> exp.Expression:
    return eq(entity, entity.key[0], row_id)


def select(cur: Cursor, entity: EntitySet, where: exp.Expression, *names: str) -> list[dict]:
    """`names` of every row matching `where`, ids as strings."""
    query = exp.select(*(col(n) for n in names)).from_(table(entity)).where(where)
    return [{n: _plain_id(v) for n, v in zip(names, row)}
            for row in cur.execute(sql(query)).fetchall()]


def fetch(cur: Cursor, entity: EntitySet, row_id: str, *names: str) -> dict | None:
    """`names` of the row `row_id`, or None; from the transaction's memo when it holds the row (`remembered`)."""
    known = remembered(cur, entity, row_id)
    if known is not UNKNOWN and (known is None or all(name in known for name in names)):
        return None if known is None else {n: _plain_id(known[n]) for n in names}
    rows = select(cur, entity, by_id(entity, row_id), *names)
    return rows[0] if rows else None


UNKNOWN = object()


def row_memo(entity: EntitySet, row_id: str) -> tuple:
    """The memo entry of a row (`store.Transaction.memo`): every stored column of it, or None if it is not there.
    `row_id`: the id as the store writes it (a canonical GUID)."""
    return ("dataverse row", entity.table, row_id)


def remembered(cur: Cursor, entity: EntitySet, row_id: str) -> dict | None | object:
    """The row's stored columns or None from the memo, or UNKNOWN when the memo does not hold it."""
    memo = getattr(cur, "memo", None)
    if not memo or not isinstance(row_id, str):
        return UNKNOWN
    try:
        canonical = str(uuid.UUID(row_id))
    except ValueError:
        return UNKNOWN
    return memo.get(row_memo(entity, canonical), UNKNOWN)


def _plain_id(value: object) -> object:
    return str(value) if isinstance(value, uuid.UUID) else value


def exists(cur: Cursor, entity: EntitySet, where: exp.Expression) -> bool:
    query = exp.select(exp.Literal.number(1)).from_(table(entity)).where(where).limit(1)
    return cur.execute(sql(query)).fetchone() is not None


def _stamp_assignments(entity: EntitySet, now: dt.datetime) -> dict:
    return {exp.to_identifier("modifiedon", quoted=True): literal(entity.stored_column("modifiedon"), now.replace(microsecond=0)),
            exp.to_identifier("versionnumber", quoted=True): exp.func("nextval", exp.Literal.string(VERSION_SEQUENCE))}


def update(cur: Cursor, entity: EntitySet, where: exp.Expression, values: dict, now: dt.datetime) -> None:
    """Set `values` on every row matching `where` (each row gets its own new version)."""
    assignments = {exp.to_identifier(n, quoted=True): literal(entity.stored_column(n), v) for n, v in values.items()}
    assignments.update(_stamp_assignments(entity, now))
    cur.execute(sql(exp.update(table(entity), assignments, where=where)))


def insert(cur: Cursor, entity: EntitySet, values: dict, now: dt.datetime) -> str:
    """Add a row with `values` and the columns' defaults; returns its id."""
    row = {c.name: c.default for c in entity.columns if c.default is not None}
    row.update(values)
    row.setdefault(entity.key[0], str(uuid.uuid4()))
    row["modifiedon"] = now.replace(microsecond=0)
    if entity.column("createdon"):
        row["createdon"] = row["modifiedon"]
    names = [n for n in row if n != "versionnumber"]
    values_row = [literal(entity.stored_column(n), row[n]) for n in names]
    names.append("versionnumber")
    values_row.append(exp.func("nextval", exp.Literal.string(VERSION_SEQUENCE)))
    cur.execute(sql(exp.insert(exp.values([tuple(values_row)]), table(entity),
                               columns=[exp.to_identifier(n, quoted=True) for n in names])))
    return row[entity.key[0]]


def delete(cur: Cursor, entity: EntitySet, where: exp.Expression, now: dt.datetime) -> None:
    """Remove the rows matching `where`, logging each deletion for change tracking."""
    for row in select(cur, entity, where, entity.key[0]):
        version = cur.execute("SELECT nextval(?)", [VERSION_SEQUENCE]).fetchone()[0]
        record_deletion(cur, entity, row[entity.key[0]], version, now.astimezone(dt.timezone.utc).replace(tzinfo=None))
    cur.execute(sql(exp.delete(table(entity), where=where)))
