"""The tenant's state: one DuckDB file holding every entity table, sequences and settings.

Reads use a fresh cursor each; writes are serialized by one lock and committed at once.
"""

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import duckdb
from sqlglot import exp

from emulate.json_cache import RowTextCache
from emulate.schema import DUCKDB_TYPES, Column, EntitySet

Cursor = duckdb.DuckDBPyConnection


def sql(expression: exp.Expression) -> str:
    return expression.sql(dialect="duckdb")


_TYPES: dict[str, exp.DataType] = {}


def _type(name: str) -> exp.DataType:
    """A DuckDB type node, parsed once (parsing a type name per literal was a write's biggest sqlglot cost)."""
    if name not in _TYPES:
        _TYPES[name] = exp.DataType.build(name, dialect="duckdb")
    return _TYPES[name].copy()


def _cast(this: exp.Expression, type_name: str) -> exp.Cast:
    return exp.Cast(this=this, to=_type(type_name))


def literal(column: Column, value: object) -> exp.Expression:
    """A typed SQL literal for a (validated) Python value of `column`."""
    if value is None:
        return exp.null()
    if column.type == "guid":
        return _cast(exp.Literal.string(str(uuid.UUID(str(value)))), "UUID")
    if column.type == "datetime":
        return _cast(exp.Literal.string(_utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")
    if column.type in ("int", "bigint", "decimal", "money", "real"):
        return _cast(exp.Literal.number(str(value)), DUCKDB_TYPES[column.type])
    if column.type == "bool":
        return exp.Boolean(this=bool(value))
    if column.type == "date":
        return _cast(exp.Literal.string(str(value)[:10]), "DATE")
    return exp.Literal.string(str(value))


def placeholder(column: Column) -> exp.Expression:
    """Where `parameter(column, value)` goes in a prepared statement: `?`, typed as `literal` types it."""
    if column.type in ("guid", "datetime", "date", "int", "bigint", "decimal", "money", "real"):
        return _cast(exp.Placeholder(), DUCKDB_TYPES[column.type])
    return exp.Placeholder()


def parameter(column: Column, value: object) -> object:
    """The value bound to `placeholder(column)`: the same text `literal` would write, so both store alike."""
    if value is None:
        return None
    if column.type == "guid":
        return str(uuid.UUID(str(value)))
    if column.type == "datetime":
        return _utc(value).strftime("%Y-%m-%d %H:%M:%S.%f")
    if column.type == "bool":
        return bool(value)
    if column.type == "date":
        return str(value)[:10]
    if isinstance(value, bool) and column.type in ("int", "bigint", "decimal", "money", "real"):
        return str(int(value))  # `literal` writes CAST(True AS INTEGER): 1
    return str(value)


_STATEMENTS: dict[tuple, str] = {}
_MAX_STATEMENTS = 10_000


def prepared(key: tuple, build: Callable[[], exp.Expression]) -> str:
    """The SQL text of a statement with `?` placeholders, built with sqlglot once per `key` (a write's shape)."""
    text = _STATEMENTS.get(key)
    if text is None:
        if len(_STATEMENTS) >= _MAX_STATEMENTS:  # shapes come from payloads' column sets: bounded, but never unbounded
            _STATEMENTS.clear()
        text = _STATEMENTS[key] = sql(build())
    return text


def _utc(value: object) -> dt.datetime:
    stamp = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return stamp.astimezone(dt.timezone.utc).replace(tzinfo=None) if stamp.tzinfo else stamp


class Store:
    """One DuckDB connection shared by every request thread."""

    def __init__(self, path: Path) -> None:
        self._con = duckdb.connect(str(path))
        self._write_lock = threading.Lock()
        self._cursor_lock = threading.Lock()
        self._open = threading.local()  # this thread's open transaction, if any
        self.row_texts = RowTextCache()  # served rows' JSON, reused while their version holds
        self.generation = 0  # committed write transactions: a page read at one generation holds while it lasts

    def close(self) -> None:
        self._con.close()

    @contextmanager
    def reading(self) -> Iterator[Cursor]:
        """A cursor; inside this thread's open transaction, that transaction's (reads see its writes)."""
        if getattr(self._open, "cursor", None) is not None:
            yield self._open.cursor
            return
        with self._cursor_lock:
            cursor = self._con.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    @property
    def in_transaction(self) -> bool:
        """Whether this thread is inside a write transaction (whose rows may yet roll back)."""
        return getattr(self._open, "cursor", None) is not None

    @contextmanager
    def snapshot(self) -> Iterator[Cursor]:
        """A cursor whose statements all see one committed state (a read transaction); not inside a write transaction."""
        with self.reading() as cursor:
            cursor.begin()
            try:
                yield cursor
            finally:
                cursor.rollback()

    @contextmanager
    def writing(self) -> Iterator[Cursor]:
        """A transaction, committed on success; only one writer at a time.

        Nested use joins the open transaction, so a $batch change set or a bulk action
        runs every write in one transaction: any failure rolls all of them back.
        """
        if getattr(self._open, "cursor", None) is not None:
            yield self._open.cursor
            return
        with self._write_lock, self.reading() as cursor:
            cursor.begin()
            self._open.cursor = cursor
            try:
                yield cursor
            except BaseException:
                cursor.rollback()
                raise
            finally:
                self._open.cursor = None
            try:
                cursor.commit()
            finally:
                self.generation += 1  # after the commit (never before: a read in between would outlive it)

    # -- schema and settings -------------------------------------------------
    @property
    def is_seeded(self) -> bool:
        with self.reading() as cur:
            return bool(cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'tenant_settings'").fetchone()[0])

    def create_tables(self, cur: Cursor, entity_sets: Iterable[EntitySet]) -> None:
        for entity in entity_sets:
            columns = [
                exp.ColumnDef(this=exp.to_identifier(c.name, quoted=True),
                              kind=exp.DataType.build(DUCKDB_TYPES[c.type], dialect="duckdb"))
                for c in entity.columns
            ]
            key = exp.PrimaryKey(expressions=[exp.to_identifier(k, quoted=True) for k in entity.key])
            table = exp.Schema(this=exp.to_table(entity.table, quoted=True), expressions=[*columns, key])
            cur.execute(sql(exp.Create(this=table, kind="TABLE")))

    def create_sequence(self, cur: Cursor, name: str, start: int) -> None:
        cur.execute(f"CREATE SEQUENCE {exp.to_identifier(name).sql('duckdb')} START {int(start)}")

    @staticmethod
    def next_value(cur: Cursor, sequence: str) -> int:
        return cur.execute("SELECT nextval(?)", [sequence]).fetchone()[0]

    def put_settings(self, cur: Cursor, settings: dict[str, str]) -> None:
        cur.execute("CREATE TABLE tenant_settings (name VARCHAR PRIMARY KEY, value VARCHAR)")
        cur.executemany("INSERT INTO tenant_settings VALUES (?, ?)", list(settings.items()))

    def settings(self) -> dict[str, str]:
        with self.reading() as cur:
            return dict(cur.execute("SELECT name, value FROM tenant_settings").fetchall())

    # -- rows ------------------------------------------------------------------
    def rows(self, entity: EntitySet) -> list[dict]:
        """Every stored row of `entity` as Python values, in key order (tests and scenarios)."""
        select = exp.select(*(exp.column(c.name, quoted=True) for c in entity.served)) \
            .from_(exp.to_table(entity.table, quoted=True)) \
            .order_by(*(exp.column(k, quoted=True) for k in entity.key))
        with self.reading() as cur:
            result = cur.execute(sql(select))
            names = [d[0] for d in result.description]
            return [dict(zip(names, map(_plain, row))) for row in result.fetchall()]


def _plain(value: object) -> object:
    """DuckDB values as the service would serve them (str ids, float money, ISO stamps)."""
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
