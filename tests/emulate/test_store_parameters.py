"""Prepared write statements store exactly what the literal SQL they replace stored (emulate/store.py)."""

import datetime as dt
import uuid
from decimal import Decimal

import duckdb
import pytest
from sqlglot import exp

from emulate.schema import DUCKDB_TYPES, Column
from emulate.store import Transaction, bulk_insert, bulk_update, literal, parameter, placeholder, prepared, sql

VALUES = {
    "guid": [str(uuid.uuid4()).upper(), uuid.uuid4()],
    "string": ["x'y", "", "ünï"],
    "enum": ["Organization"],
    "int": [5, -3, True, Decimal("7")],
    "bigint": [10**12],
    "decimal": [1.25, 1e-05, Decimal("12345.6789"), 3],
    "money": [0.1, Decimal("-0.5")],
    "real": [0.5, 2],
    "bool": [True, False],
    "date": ["2024-02-29", "2024-02-29T00:00:00Z"],
    "datetime": [dt.datetime(2024, 1, 2, 3, 4, 5, 678), "2024-01-02T03:04:05Z", dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)],
}


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_parameter_stores_what_literal_stored(kind):
    column = Column("v", kind)
    con = duckdb.connect()
    con.execute(f'CREATE TABLE t (n INTEGER, v {DUCKDB_TYPES[kind]})')
    for n, value in enumerate([*VALUES[kind], None]):
        con.execute(sql(exp.insert(exp.values([(exp.Literal.number(n), literal(column, value))]), "t")))
        text = prepared(("test parameter", kind), lambda: exp.insert(exp.values([(exp.Placeholder(), placeholder(column))]), "t"))
        con.execute(text, [n, parameter(column, value)])
    stored = con.execute("SELECT n, list(v ORDER BY v NULLS LAST), count(*), count(v) FROM t GROUP BY n ORDER BY n").fetchall()
    for n, pair, rows, filled in stored:
        assert rows == 2 and filled in (0, 2) and pair[0] == pair[1], (kind, n, pair)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_bulk_insert_stores_what_one_row_statements_stored(kind):
    """Held-back rows sent together (`bulk_insert`) store what one prepared INSERT per row stored,
    each row taking its sequence value in the order the rows were asked for."""
    column = Column("v", kind)
    con = duckdb.connect()
    con.execute(f'CREATE TABLE t (n INTEGER, "v" {DUCKDB_TYPES[kind]}, version BIGINT)')
    con.execute("CREATE SEQUENCE s_one START 1")
    con.execute("CREATE SEQUENCE s_bulk START 1")
    number = Column("n", "int")
    rows = [[str(n), parameter(column, value)] for n, value in enumerate([*VALUES[kind], None] * 3)]
    one_row = sql(exp.insert(exp.values([(placeholder(number), placeholder(column), exp.func("nextval", exp.Literal.string("s_one")))]),
                             "t", columns=["n", exp.to_identifier("v", quoted=True), "version"]))
    for row in rows:
        con.execute(one_row, row)
    alone = con.execute("SELECT n, v, version FROM t ORDER BY version").fetchall()
    con.execute("DELETE FROM t")
    transaction = Transaction(con.cursor(), defer=True)
    for row in rows:
        transaction.insert(("test bulk", kind), lambda: None, lambda: bulk_insert(
            "t", [number, column], {"version": exp.func("nextval", exp.Literal.string("s_bulk"))}), row)
    transaction.flush()
    together = con.execute("SELECT n, v, version FROM t ORDER BY version").fetchall()
    assert together == alone


def test_bulk_insert_keeps_the_order_of_many_rows():
    con = duckdb.connect()
    con.execute('CREATE TABLE t (n INTEGER, version BIGINT)')
    con.execute("CREATE SEQUENCE s START 1")
    number = Column("n", "int")
    transaction = Transaction(con.cursor(), defer=True)
    for n in range(5000):
        transaction.insert(("test order",), lambda: None, lambda: bulk_insert(
            "t", [number], {"version": exp.func("nextval", exp.Literal.string("s"))}), [str(n)])
    transaction.flush()
    assert con.execute("SELECT list(n ORDER BY version) = list(n ORDER BY n), count(*) FROM t").fetchone() == (True, 5000)


@pytest.mark.parametrize("kind", sorted(VALUES))
def test_bulk_update_stores_what_one_row_statements_stored(kind):
    """Held-back updates sent together (`bulk_update`) store what one prepared UPDATE per row stored,
    with the sequence values one statement per row would have taken, in order; a row updated twice
    ends as the second update left it."""
    column, key = Column("v", kind), Column("n", "guid")
    values = [*VALUES[kind], None]
    ids = [str(uuid.UUID(int=i + 1)) for i in range(len(values))]
    updates = [[parameter(column, value), row_id] for value, row_id in zip(values, ids)] + [[parameter(column, values[0]), ids[-1]]]
    con = duckdb.connect()
    for table in ("alone", "together"):
        con.execute(f'CREATE TABLE {table} (n UUID PRIMARY KEY, "v" {DUCKDB_TYPES[kind]}, version BIGINT)')
        con.execute(f"CREATE SEQUENCE s_{table} START 1")
        con.executemany(f"INSERT INTO {table} VALUES (?, NULL, 0)", [[i] for i in ids])
    one_row = sql(exp.update("alone", {exp.to_identifier("v", quoted=True): placeholder(column),
                                       "version": exp.func("nextval", exp.Literal.string("s_alone"))},
                             where=exp.EQ(this=exp.column("n"), expression=placeholder(key))))
    for row in updates:
        con.execute(one_row, row)
    transaction = Transaction(con.cursor(), defer=True)
    for row in updates:
        transaction.update(("test bulk update", kind), lambda: None, lambda: bulk_update("together", key, [column], "version"),
                           row, "s_together", [])
    transaction.flush()
    alone, together = (con.execute(f"SELECT n, v, version FROM {table} ORDER BY n").fetchall() for table in ("alone", "together"))
    assert together == alone
