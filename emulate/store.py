"""The tenant's state: one DuckDB file holding every entity table, sequences and settings.

Reads use a fresh cursor each; writes are serialized by one lock and committed at once.
A write transaction hands out a `Transaction` (the cursor, plus what a $batch needs to run
many writes cheaply: inserts held back and sent as one statement, and rows it already knows).
"""

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
from sqlglot import exp

from emulate.json_cache import PageTexts, RowTextCache
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


_TYPED_PLACEHOLDERS = frozenset({"guid", "datetime", "date", "int", "bigint", "decimal", "money", "real"})


def placeholder(column: Column) -> exp.Expression:
    """Where `parameter(column, value)` goes in a prepared statement: `?`, typed as `literal` types it."""
    if column.type in _TYPED_PLACEHOLDERS:
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


class DeferredWriteFailed(Exception):
    """Held-back writes failed when sent together: the caller runs its writes again, each sent at once."""


@dataclass
class _Held:
    """Consecutive held-back writes of one statement shape: the rows' parameters, in order."""

    key: tuple
    build: Callable[[], exp.Expression]  # the statement for all rows at once (`bulk_insert`, `bulk_update`)
    numbered: str | None  # a sequence: its next value for each row, in row order, goes as the last list
    rows: list[list] = field(default_factory=list)
    updated: set = field(default_factory=set)  # the keys an update run holds (each row at most once)


_FETCHES = frozenset({"fetchone", "fetchall", "fetchmany", "description", "rowcount"})


class Transaction:
    """The cursor of an open write transaction, as every write and read inside it sees it.

    With `defer` on (a $batch's run of writes), `insert` and `update` hold rows back and send
    each run of one statement shape as one `bulk_insert` / `bulk_update`, in the order they
    were asked for, before any other statement (so every statement, and every sequence value,
    sees exactly what it would have seen) and before the commit. `memo` keeps what the writes
    of this transaction know about rows (say, that a key is not there) while nothing else
    changed them: any statement other than a SELECT empties it, and a write that knows what
    it changed (`write`, `insert`, `update`) forgets just that. Held-back writes that fail
    raise `DeferredWriteFailed` (the transaction then only rolls back), so the caller runs
    its writes again with `defer` off, where the failing write fails as it would alone.
    """

    def __init__(self, cursor: Cursor, defer: bool) -> None:
        self.cursor, self.defer = cursor, defer
        self.memo: dict[tuple, object] = {}
        self._held: list[_Held] = []

    def execute(self, query: str, parameters: object = None) -> Cursor:
        self.flush()
        if not _reads_only(query):
            self.memo.clear()
        return self.cursor.execute(query, parameters) if parameters is not None else self.cursor.execute(query)

    def write(self, query: str, parameters: object, changed: Iterable[tuple]) -> Cursor:
        """Run a statement that changes nothing the memo knows but the entries `changed` names (they are forgotten)."""
        self.flush()
        result = self.cursor.execute(query, parameters)
        for key in changed:
            self.memo.pop(key, None)
        return result

    def executemany(self, query: str, parameters: object) -> Cursor:
        self.flush()
        self.memo.clear()
        return self.cursor.executemany(query, parameters)

    def __getattr__(self, name: str) -> object:
        """Anything else of the cursor; whatever may run a statement first sends the held-back rows."""
        if name not in _FETCHES:
            self.flush()
            self.memo.clear()
        return getattr(self.cursor, name)

    def insert(self, key: tuple, single: Callable[[], exp.Expression], bulk: Callable[[], exp.Expression], row: list) -> None:
        """Insert one row: `single` (a one-row statement, `prepared` under `key`) bound to `row` now,
        or with `defer` held back and sent with the rows after it as `bulk` (`bulk_insert`)."""
        if not self.defer:
            self.execute(prepared(("single",) + key, single), row)
            return
        self._hold(key, bulk, None, row)

    def update(self, key: tuple, single: Callable[[], exp.Expression], bulk: Callable[[], exp.Expression], row: list,
               numbered: str, changed: Iterable[tuple]) -> None:
        """Update one row by its key: `single` (which takes its version from sequence `numbered`) bound to `row`
        now, or with `defer` held back and sent with the rows after it as `bulk` (`bulk_update`). Either way
        the memo forgets `changed` (`write`)."""
        if not self.defer:
            self.write(prepared(("single",) + key, single), row, changed)
            return
        if self._held and row[-1] in self._held[-1].updated:
            self.flush()  # a second update of a row: after the first, as one statement per row would
        self._hold(key, bulk, numbered, row)
        self._held[-1].updated.add(row[-1])
        for memo_key in changed:
            self.memo.pop(memo_key, None)

    def _hold(self, key: tuple, bulk: Callable[[], exp.Expression], numbered: str | None, row: list) -> None:
        if not self._held or self._held[-1].key != key:
            self._held.append(_Held(key, bulk, numbered))
        self._held[-1].rows.append(row)

    def flush(self) -> None:
        """Send the held-back writes, each run of one shape as one statement, in order."""
        while self._held:
            held = self._held.pop(0)
            columns = [list(values) for values in zip(*held.rows)]
            try:
                if held.numbered:  # the values one statement per row would have taken, in row order
                    columns.append(sorted(v for (v,) in self.cursor.execute(
                        "SELECT nextval(?) FROM range(?)", [held.numbered, len(held.rows)]).fetchall()))
                self.cursor.execute(prepared(("bulk",) + held.key, held.build), columns)
            except duckdb.Error as exc:
                self._held.clear()
                raise DeferredWriteFailed(str(exc)) from exc


def _reads_only(query: str) -> bool:
    return query.lstrip()[:6].upper() == "SELECT"


def bulk_insert(table: str, columns: list[Column], computed: dict[str, exp.Expression]) -> exp.Insert:
    """`INSERT INTO table (columns..., computed...) SELECT ... FROM (SELECT UNNEST(?) ...)`: one list
    parameter per column (its `parameter` values, in row order), each value typed as `placeholder`
    types it, and `computed` (say `nextval`) evaluated per row in that order."""
    aliases = [f"p2c_{i}" for i in range(len(columns))]
    unnested = [exp.alias_(exp.Unnest(expressions=[_cast(exp.Placeholder(), f"{_list_type(c)}[]")]), a)
                for c, a in zip(columns, aliases)]
    selected = [_typed(c, exp.column(a)) for c, a in zip(columns, aliases)] + list(computed.values())
    source = exp.select(*selected).from_(exp.select(*unnested).subquery("p2c_rows"))
    names = [exp.to_identifier(c.name, quoted=True) for c in columns] + [exp.to_identifier(n, quoted=True) for n in computed]
    return exp.insert(source, exp.to_table(table, quoted=True), columns=names)


def bulk_update(table: str, key: Column, columns: list[Column], numbered: str) -> exp.Update:
    """`UPDATE table SET columns..., numbered = <its value> FROM (SELECT UNNEST(?) ...) WHERE key = ...`: one list
    parameter per column, then one of keys (one row each), then one of the sequence values (`Transaction.flush`)."""
    aliases = [f"p2c_{i}" for i in range(len(columns))]
    lists = [(_cast(exp.Placeholder(), f"{_list_type(c)}[]"), a) for c, a in zip(columns, aliases)]
    lists += [(_cast(exp.Placeholder(), f"{_list_type(key)}[]"), "p2c_key"), (_cast(exp.Placeholder(), "BIGINT[]"), "p2c_number")]
    source = exp.select(*(exp.alias_(exp.Unnest(expressions=[values]), alias) for values, alias in lists)).subquery("p2c_rows")
    def given(alias: str) -> exp.Column:
        return exp.column(alias, table="p2c_rows")
    assignments = {exp.to_identifier(c.name, quoted=True): _typed(c, given(a)) for c, a in zip(columns, aliases)}
    assignments[exp.to_identifier(numbered, quoted=True)] = given("p2c_number")
    target = exp.column(key.name, table=exp.to_identifier(table, quoted=True), quoted=True)
    update = exp.update(exp.to_table(table, quoted=True), assignments, where=exp.EQ(this=target, expression=_typed(key, given("p2c_key"))))
    update.set("from_", exp.From(this=source))
    return update


def _list_type(column: Column) -> str:
    """The SQL type of `parameter(column, ...)` values: a bool, or text."""
    return "BOOLEAN" if column.type == "bool" else "VARCHAR"


def _typed(column: Column, value: exp.Expression) -> exp.Expression:
    """`value` typed as `placeholder(column)` types its parameter."""
    if column.type in _TYPED_PLACEHOLDERS:
        return _cast(value, DUCKDB_TYPES[column.type])
    return value


class Store:
    """One DuckDB connection shared by every request thread."""

    def __init__(self, path: Path) -> None:
        self._con = duckdb.connect(str(path))
        self._write_lock = threading.Lock()
        self._cursor_lock = threading.Lock()
        self._open = threading.local()  # this thread's open transaction, if any
        self.row_texts = RowTextCache()  # served rows' JSON, reused while their version holds
        self.page_texts = PageTexts()  # bodies of pages read by key, by content (`attach_page_texts` keeps them on disk)
        self.generation = 0  # committed write transactions: a page read at one generation holds while it lasts

    def close(self) -> None:
        self.page_texts.close()
        self._con.close()

    def attach_page_texts(self, directory: Path) -> None:
        """Keep the bodies of pages read by key in `directory`, for this tenant (its `tenant_id` setting) only
        (a directory that cannot be written leaves them in a temporary file)."""
        try:
            self.page_texts.attach(directory, self.settings().get("tenant_id", ""), self.highest_version)
        except OSError:
            self.page_texts.close()

    def highest_version(self, table: str, column: str) -> int | None:
        """The highest value of `column` in `table`; None when there is no such table, column or row."""
        with self.reading() as cur:
            try:
                return cur.execute(sql(exp.select(exp.Max(this=exp.column(column, quoted=True)))
                                       .from_(exp.to_table(table, quoted=True)))).fetchone()[0]
            except (duckdb.CatalogException, duckdb.BinderException):  # no such table; no such column
                return None

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
    def writing(self, defer: bool = False) -> Iterator[Transaction]:
        """A transaction, committed on success; only one writer at a time.

        Nested use joins the open transaction, so a $batch change set or a bulk action
        runs every write in one transaction: any failure rolls all of them back. `defer`
        (of the outermost use) holds inserts and updates back (`Transaction`); the caller
        must then catch `DeferredWriteFailed` and run its writes again without it.
        """
        if getattr(self._open, "cursor", None) is not None:
            yield self._open.cursor
            return
        with self._write_lock, self.reading() as cursor:
            cursor.begin()
            transaction = self._open.cursor = Transaction(cursor, defer)
            try:
                yield transaction
                transaction.flush()
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
