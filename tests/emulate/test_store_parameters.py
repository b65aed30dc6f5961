"""Prepared write statements store exactly what the literal SQL they replace stored (emulate/store.py)."""

import datetime as dt
import uuid
from decimal import Decimal

import duckdb
import pytest
from sqlglot import exp

from emulate.schema import DUCKDB_TYPES, Column
from emulate.store import literal, parameter, placeholder, prepared, sql

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
