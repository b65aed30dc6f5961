"""Landing: pages → page files → the raw table (latest version) and its history (SCD2).

Nothing in ``raw_*`` changes until every page of an entity has arrived; the merge then
runs in one transaction, so an interrupted extract leaves the raw tables as they were.
A change-tracking read also carries ``$deletedEntity`` rows (``id``, ``reason``): the
merge marks those keys deleted, and everything else it received as new or changed.

Each page's ``value`` array is cut from the body and kept as a file; only the small
envelope around it (nextLink, deltaLink, count) is parsed in Python. At the merge DuckDB
reads all of an entity's page files at once (in parallel, typed by the registry's columns,
hashing each row): into the raw table directly on a first load, or into one temp table that
the comparing merge reads. ``_p2c_hash`` is ``extract.sql.row_hash``; ``p2c_meta.raw_hash``
records, per entity, the ``HASH_FORMAT`` its raw hashes were made with, and a merge under
another format first recomputes them from the stored columns (one UPDATE), so a new hash
function (or an older p2c's md5 hashes) never reads as a million changes.

History is stored once: the current version of a key is its raw row (valid from the row's
``_p2c_run_id``), and ``<entity>__replaced`` holds the versions later ones replaced (each with
the run that replaced it). ``<entity>__history`` is the view over both that readers query, one
row per version, the current one with ``_p2c_valid_to_run`` NULL. A first load therefore writes
its rows once, and a merge moves only the replaced rows' old versions.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from extract.errors import ExtractError, PageError
from extract.registry import TRACKING_MEMBERS, Entity
from extract.sql import column_list, ident, key_match, row_hash, table

META_COLUMNS = (
    ("_p2c_run_id", "BIGINT"),
    ("_p2c_extracted_at", "TIMESTAMP"),
    ("_p2c_hash", "VARCHAR"),
    ("_p2c_deleted", "BOOLEAN"),
)
HASH_FORMAT = f"duckdb-hash64/{duckdb.__version__}"  # what made the raw hashes (see the module docstring)
HASH_TABLE = "p2c_meta.raw_hash"
HISTORY_COLUMNS = (
    ("_p2c_hash", "VARCHAR"),
    ("_p2c_deleted", "BOOLEAN"),
    ("_p2c_valid_from_run", "BIGINT"),
    ("_p2c_valid_to_run", "BIGINT"),
)


@dataclass(frozen=True)
class LandResult:
    received: int
    new: int
    changed: int
    deleted: int
    warning: str | None = None  # e.g. why rows a full read did not receive were not marked deleted


def history_table(entity: Entity) -> str:
    """The view of every version of the entity's rows (``replaced_table`` and the raw table)."""
    return table(entity.schema, f"{entity.entity_set}__history")


def replaced_table(entity: Entity) -> str:
    """The versions of the entity's rows that later versions replaced."""
    return table(entity.schema, f"{entity.entity_set}__replaced")


def _history_view(entity: Entity) -> str:
    """The history view: replaced versions, then each raw row as its key's current version."""
    return (f"CREATE OR REPLACE VIEW {history_table(entity)} AS SELECT * FROM {replaced_table(entity)} "
            f"UNION ALL BY NAME SELECT * EXCLUDE (_p2c_run_id, _p2c_extracted_at), _p2c_run_id AS _p2c_valid_from_run, "
            f"CAST(NULL AS BIGINT) AS _p2c_valid_to_run FROM {table(entity.schema, entity.entity_set)}")


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Create the raw and replaced-versions tables and the history view, adding columns newly declared in the registry."""
    ensure_all_raw_tables(con, [entity])


def ensure_all_raw_tables(con: duckdb.DuckDBPyConnection, entities: Iterable[Entity]) -> None:
    """``ensure_raw_tables`` for many entities, with one look at the catalog for all of them:
    only missing schemas, tables, columns and views cost a statement. A staging file from before
    the history view (a ``__history`` table holding every version) is moved to the view's layout."""
    entities = list(entities)
    names = {e: ((e.schema, e.entity_set), (e.schema, f"{e.entity_set}__replaced"), (e.schema, f"{e.entity_set}__history"))
             for e in entities}  # (schema, table) of raw, replaced versions and history, as the catalog names them
    wanted = {name: (*columns, *extra) for e, (raw, replaced, _) in names.items()
              for name, columns, extra in ((raw, e.columns, META_COLUMNS), (replaced, e.columns, HISTORY_COLUMNS))}
    present: dict[tuple[str, str], set[str]] = {}
    kinds: dict[tuple[str, str], str] = {}
    for schema, name, column, kind in con.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, t.table_type FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_catalog, table_schema, table_name) "
            "WHERE c.table_catalog = current_database()").fetchall():
        present.setdefault((schema, name), set()).add(column)
        kinds[(schema, name)] = kind
    for schema in sorted(({s for s, _ in wanted} | {"p2c_meta"}) - {s for s, _ in present}):
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(schema)}")
    for e, (_, replaced, history) in names.items():
        if kinds.get(history) == "BASE TABLE":
            _move_to_history_view(con, e, replaced in present)
            present[replaced] = present.pop(history)
            del kinds[history]
    altered: set[tuple[str, str]] = set()  # raw tables whose history view must be made again
    raw_of = {name: raw for raw, replaced, _ in names.values() for name in (raw, replaced)}
    for name, columns in wanted.items():
        target = table(*name)
        if name not in present:
            con.execute(f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(f'{ident(n)} {t}' for n, t in columns)})")
            altered.add(raw_of[name])
            continue
        for column, type_ in columns:
            if column not in present[name]:
                con.execute(f"ALTER TABLE {target} ADD COLUMN {ident(column)} {type_}")
                altered.add(raw_of[name])
    for e, (raw, _, history) in names.items():
        if raw in altered or history not in kinds:
            con.execute(_history_view(e))
    if ("p2c_meta", "raw_hash") not in present:
        con.execute(f"CREATE TABLE IF NOT EXISTS {HASH_TABLE} (entity VARCHAR PRIMARY KEY, format VARCHAR NOT NULL)")


def _move_to_history_view(con: duckdb.DuckDBPyConnection, entity: Entity, replaced_exists: bool) -> None:
    """An older staging file's ``__history`` table → its replaced versions (the current ones are the raw rows)."""
    if replaced_exists:
        raise ExtractError(f"{entity.schema}.{entity.entity_set}: both a __history table and a __replaced table exist; keep one")
    con.execute(f"CREATE TABLE {replaced_table(entity)} AS SELECT * FROM {history_table(entity)} WHERE _p2c_valid_to_run IS NOT NULL")
    con.execute(f"DROP TABLE {history_table(entity)}")


_VALUE_ARRAY = re.compile(rb'"value"\s*:\s*\[')
ENVELOPE_TAIL = 65536  # the members after ``value`` (nextLink, deltaLink) fit in this many bytes


def split_page(body: bytes) -> tuple[memoryview, dict]:
    """A page's ``value`` array (a view of the body's bytes, for DuckDB) and its other members.

    The array ends at the last ``]`` after which the body, with the array emptied, is still a
    JSON object whose ``value`` is ``[]``; that check also parses the envelope. Raises
    ``ValueError`` for a body that is not such an object (DuckDB then judges the array itself).
    """
    found = _VALUE_ARRAY.search(body)
    if found is None:
        raise ValueError('no "value" array in the page')
    start, end = found.end() - 1, len(body)
    floor = max(start, len(body) - ENVELOPE_TAIL)
    while (end := body.rfind(b"]", floor, end)) >= 0:
        try:
            envelope = json.loads(body[:start] + b"[]" + body[end + 1:])
        except ValueError:
            continue
        if isinstance(envelope, dict) and envelope.get("value") == []:
            return memoryview(body)[start:end + 1], envelope
    raise ValueError('the page\'s "value" array is not closed, or the page is not one JSON object')


SPOOL_DATABASE = "p2c_spool"  # an in-memory database beside the staging file (kept for callers that attach it)


def attach_spool(con: duckdb.DuckDBPyConnection) -> None:
    """Attach the in-memory spool database; every cursor of ``con`` sees it (temp tables they would not)."""
    con.execute(f"ATTACH IF NOT EXISTS ':memory:' AS {SPOOL_DATABASE}")


@dataclass(frozen=True)
class Page:
    """What one spooled page said beyond its rows."""

    number: int
    rows: int
    next_link: str | None
    delta_link: str | None
    count: int | None  # ``@odata.count``, when asked for


class PageSpool:
    """Receives an entity's pages as raw bytes and keeps each one's ``value`` array as a file,
    for DuckDB to parse once, at the merge, straight into the raw table (no copy in between).

    Pages may arrive from several threads at once; they are numbered in the order they were
    asked for, and the page number is in the file name, so the latest version of a key that
    appears twice wins. Only the envelope is parsed here (nextLink, deltaLink, count); rows
    are counted by their key member (``"<key>":``, which no JSON string can hold unescaped).
    ``tracking`` reads (Dataverse change tracking) also keep each row's ``id`` and ``reason``,
    which only ``$deletedEntity`` rows have, and the last page's ``@odata.deltaLink``.

    Each scan of a page costs about a millisecond per 4 MB page, so the spool skips those nobody
    needs: rows are counted only when ``count_rows`` (a progress bar shows them; a page's
    ``rows`` is 0 otherwise), and pages are searched for ``$deletedEntity`` only in a delta
    (not ``full_read``): a full read holds the current rows only, and should one come anyway the
    merges still find it (by its missing key).
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, entity: Entity, *, tracking: bool = False,
                 full_read: bool = False, count_rows: bool = True) -> None:
        self.con = con
        self.entity = entity
        self.tracking = tracking
        self.full_read, self.count_rows = full_read, count_rows
        self.pages = 0
        self.rows = 0
        self.removals = False  # some page may hold ``$deletedEntity`` rows
        self.received_any = False  # some page had a row
        self.delta_link: str | None = None
        self.files: list[Path] = []
        self._lock = threading.Lock()
        self.name = "_p2c_spool"  # a temp table, made only when the merge needs one (see ``materialise``)
        self._dir = tempfile.TemporaryDirectory(prefix="p2c-spool-")
        fields = (*entity.columns, *((m, "VARCHAR") for m in TRACKING_MEMBERS if tracking))
        self.columns = dict(fields)  # typed as declared: no guessing, a value that does not fit fails
        self._key_member = re.compile(b'"' + re.escape(entity.key[0].encode()) + rb'"\s*:')

    def add(self, body: bytes) -> str | None:
        """Spool one page; returns its ``@odata.nextLink``."""
        return self.add_page(body).next_link

    def number(self) -> int:
        """The next page number: pages are numbered in the order they were asked for, so the
        latest version of a key that appears twice wins even when later pages arrive first."""
        with self._lock:
            self.pages += 1
            return self.pages

    def add_page(self, body: bytes, cursor: duckdb.DuckDBPyConnection | None = None, number: int | None = None,
                 *, exact: bool = False) -> Page:
        """Keep one page's rows and say what it held (``exact``: rows counted by DuckDB, through ``cursor``)."""
        number = self.number() if number is None else number
        path = Path(self._dir.name) / f"page-{number}.json"
        try:
            rows_json, envelope = split_page(body)
            next_link, delta_link = envelope.get("@odata.nextLink"), envelope.get("@odata.deltaLink")
            count = envelope.get("@odata.count")
            if not all(isinstance(v, str | None) for v in (next_link, delta_link)) or not isinstance(count, int | None):
                raise ValueError("its @odata.nextLink, @odata.deltaLink or @odata.count has the wrong type")
            rows_json = bytes(rows_json)  # (one copy of the array: searched below)
            path.write_bytes(rows_json)
            removals = self.tracking and not self.full_read and b"$deletedEntity" in rows_json
            if exact:
                rows = (cursor or self.con).execute(
                    "SELECT count(*) FROM read_json(?, columns = ?, format = 'array')", [str(path), self.columns]
                ).fetchone()[0]
            elif self.count_rows:
                rows = len(self._key_member.findall(rows_json))
                rows += rows_json.count(b'$deletedEntity"') if removals else 0
            else:
                rows = 0
        except (duckdb.Error, ValueError) as exc:
            raise PageError(f"{self.entity.label}: page {number} could not be read: {self._first_line(exc)}") from exc
        with self._lock:
            self.files.append(path)
            self.rows += rows
            self.removals = self.removals or removals
            self.received_any = self.received_any or b"{" in rows_json
            if delta_link is not None:
                self.delta_link = delta_link
        return Page(number, rows, next_link, delta_link, count)

    def source(self) -> str:
        """A ``FROM`` clause over every page's rows, with ``_p2c_page`` (the page number) and ``_p2c_hash``."""
        page = "regexp_extract(filename, 'page-([0-9]+)[.]json$', 1)::INTEGER"
        return (f"(SELECT * EXCLUDE (filename), {page} AS _p2c_page, {row_hash(self.entity.column_names)} AS _p2c_hash "
                f"FROM read_json(?, columns = ?, format = 'array', filename = true))")

    def parameters(self) -> list:
        return [[str(p) for p in self.files], self.columns]

    def materialise(self, con: duckdb.DuckDBPyConnection) -> None:
        """Parse every page into the temp table ``name`` (for the comparing merge)."""
        if not self.files:
            struct = ", ".join(f"{ident(n)} {t}" for n, t in self.columns.items())
            con.execute(f"CREATE OR REPLACE TEMP TABLE {self.name} ({struct}, _p2c_page INTEGER, _p2c_hash VARCHAR)")
            return
        self.parse(con, f"CREATE OR REPLACE TEMP TABLE {self.name} AS SELECT * FROM {self.source()}")

    def parse(self, con: duckdb.DuckDBPyConnection, sql: str, extra: list | None = None) -> int:
        """Run ``sql`` (which reads ``source()``); a page DuckDB cannot read fails with one line naming it."""
        try:
            return con.execute(sql, [*(extra or []), *self.parameters()]).fetchone()[0]
        except duckdb.Error as exc:
            found = re.search(r"page-([0-9]+)[.]json", str(exc))
            which = f"page {found.group(1)}" if found else "a page"
            raise PageError(f"{self.entity.label}: {which} could not be read: {self._first_line(exc)}") from exc

    def _first_line(self, exc: BaseException) -> str:
        """The error's first line, with page files named by their page number (never a temp path)."""
        line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return re.sub(re.escape(self._dir.name) + r"/page-([0-9]+)[.]json", r"page \1", line)

    def close(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self.name}")
        self._dir.cleanup()


def merge_into_raw(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    spool: PageSpool,
    *,
    run_id: int,
    extracted_at: datetime,
    full_read: bool,
    expected_keys: int | None = None,
    before_commit: Callable[[], None] | None = None,
) -> LandResult:
    """Merge the spooled rows into the raw table in one transaction (the versions they replace go to ``__replaced``).

    A full read also marks rows that were not received as deleted; any read marks the keys
    of its ``$deletedEntity`` rows deleted. ``expected_keys`` is the service's count of the
    rows a full read covers (``@odata.count`` of its first page): when the distinct keys
    received differ from it, the rows moved while the read was under way (a ranged read's
    ``$skip`` offsets shift when a row is deleted, and a live row can fall between two
    ranges), so absence proves nothing and no row is marked deleted for it; the result's
    ``warning`` says so. ``before_commit`` runs inside the transaction (the deltaLink is
    stored there), so the merge and it commit or roll back together.
    """
    raw = table(entity.schema, entity.entity_set)
    replaced = replaced_table(entity)
    cols = column_list(entity.column_names)
    keys = column_list(entity.key)
    first_key = ident(entity.key[0])
    if not full_read and not spool.received_any:
        return _nothing_received(con, before_commit)  # a quiet delta: no scan of a million raw rows
    con.execute("BEGIN TRANSACTION")
    try:
        if not spool.removals and con.execute(f"SELECT NOT EXISTS (FROM {raw}) AND NOT EXISTS (FROM {replaced})").fetchone()[0]:
            result = _first_load(con, entity, spool, run_id, extracted_at, expected_keys)
            if result is not None:
                _record_hash_format(con, entity)
                if before_commit is not None:
                    before_commit()
                con.execute("COMMIT")
                return result
        spool.materialise(con)
        if spool.tracking:  # a $deletedEntity row has an id and no entity columns (its key among them)
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _p2c_removed AS SELECT DISTINCT \"id\" AS {first_key} "
                f"FROM {spool.name} WHERE {first_key} IS NULL AND \"id\" IS NOT NULL"
            )
            received_rows = (
                f"FROM {spool.name} s WHERE s.{first_key} IS NOT NULL "
                f"AND NOT EXISTS (SELECT 1 FROM _p2c_removed d WHERE {key_match(entity.key, 'd', 's')})"
            )  # deletes come last in a delta (protocols.md 1.4): a key in both was deleted after its change
        else:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _p2c_removed AS SELECT {keys} FROM {raw} WHERE FALSE")
            received_rows = f"FROM {spool.name}"
        repeated = con.execute(f"SELECT {keys} {received_rows} GROUP BY ALL HAVING count(*) > 1 LIMIT 1").fetchone()
        # a key that came twice keeps its latest page's version (a window: a sort, and a copy); otherwise
        # the spool itself is what came in (a view: no copy of a million rows)
        latest = f" QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _p2c_page DESC) = 1" if repeated else ""
        kind = "TABLE" if repeated else "VIEW"
        con.execute(f"CREATE OR REPLACE TEMP {kind} _p2c_incoming AS SELECT {cols}, _p2c_hash {received_rows}{latest}")
        _rehash_if_needed(con, entity, raw)
        warning = None
        if full_read and expected_keys is not None:
            warning = _count_mismatch(con.execute("SELECT count(*) FROM _p2c_incoming").fetchone()[0], expected_keys)
            full_read = warning is None
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _p2c_changed AS SELECT i.*, r.{first_key} IS NULL AS _p2c_is_new "
            f"FROM _p2c_incoming i LEFT JOIN {raw} r ON {key_match(entity.key, 'i', 'r')} "
            f"WHERE r.{first_key} IS NULL OR r._p2c_hash <> i._p2c_hash OR r._p2c_deleted"
        )
        absent = (
            f"NOT EXISTS (SELECT 1 FROM _p2c_incoming i WHERE {key_match(entity.key, 'i', 'r')})" if full_read else "FALSE"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _p2c_gone AS SELECT {keys} FROM {raw} r "
            f"WHERE NOT r._p2c_deleted AND ({absent} "
            f"OR EXISTS (SELECT 1 FROM _p2c_removed d WHERE {key_match(entity.key, 'd', 'r')}))"
        )
        touched = f"(SELECT {keys} FROM _p2c_changed UNION ALL SELECT {keys} FROM _p2c_gone)"
        con.execute(  # the current versions of changed and gone keys are replaced this run
            f"INSERT INTO {replaced} BY NAME SELECT {cols}, _p2c_hash, _p2c_deleted, _p2c_run_id AS _p2c_valid_from_run, "
            f"?::BIGINT AS _p2c_valid_to_run FROM {raw} r WHERE EXISTS (SELECT 1 FROM {touched} t WHERE {key_match(entity.key, 't', 'r')})",
            [run_id],
        )
        con.execute(f"DELETE FROM {raw} r WHERE EXISTS (SELECT 1 FROM _p2c_changed c WHERE {key_match(entity.key, 'c', 'r')})")
        con.execute(
            f"INSERT INTO {raw} SELECT {cols}, ?, ?, _p2c_hash, false FROM _p2c_changed", [run_id, extracted_at]
        )
        con.execute(
            f"UPDATE {raw} r SET _p2c_deleted = true, _p2c_run_id = ?, _p2c_extracted_at = ? "
            f"WHERE EXISTS (SELECT 1 FROM _p2c_gone g WHERE {key_match(entity.key, 'g', 'r')})",
            [run_id, extracted_at],
        )
        received = con.execute("SELECT (SELECT count(*) FROM _p2c_incoming) + (SELECT count(*) FROM _p2c_removed)").fetchone()[0]
        new, changed = con.execute(
            "SELECT count(*) FILTER (WHERE _p2c_is_new), count(*) FILTER (WHERE NOT _p2c_is_new) FROM _p2c_changed"
        ).fetchone()
        deleted = con.execute("SELECT count(*) FROM _p2c_gone").fetchone()[0]
        con.execute(f"DROP {kind} _p2c_incoming")
        for temp in ("_p2c_changed", "_p2c_gone", "_p2c_removed"):
            con.execute(f"DROP TABLE {temp}")
        if before_commit is not None:
            before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LandResult(received=received, new=new, changed=changed, deleted=deleted, warning=warning)


def _count_mismatch(keys: int, expected_keys: int) -> str | None:
    """The warning for a full read whose distinct keys differ from the service's count (None: they agree)."""
    if keys == expected_keys:
        return None
    return (f"received {keys} distinct keys but the service counted {expected_keys} when the read began: rows were "
            "added or deleted while it was under way, so rows not received were not marked deleted this run")


def _first_load(con: duckdb.DuckDBPyConnection, entity: Entity, spool: PageSpool, run_id: int,
                extracted_at: datetime, expected_keys: int | None = None) -> LandResult | None:
    """An empty raw table (and no replaced versions): the pages are parsed straight into raw (each row its key's current version).

    Everything received is new; nothing can be changed or deleted. Returns None (raw emptied
    again, inside the transaction) when a key came twice: the comparing merge keeps its latest page.
    """
    raw = table(entity.schema, entity.entity_set)
    cols = column_list(entity.column_names)
    keyed = f" WHERE {ident(entity.key[0])} IS NOT NULL" if spool.tracking else ""
    new = spool.parse(con, f"INSERT INTO {raw} SELECT {cols}, ?, ?, _p2c_hash, false FROM {spool.source()}{keyed}",
                      [run_id, extracted_at]) if spool.files else 0
    keys = con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {raw} GROUP BY {column_list(entity.key)})").fetchone()[0]
    if keys != new:  # a key came twice
        con.execute(f"DELETE FROM {raw}")
        return None
    warning = _count_mismatch(keys, expected_keys) if expected_keys is not None else None
    return LandResult(received=new, new=new, changed=0, deleted=0, warning=warning)


def _record_hash_format(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Say raw's hashes are ``HASH_FORMAT`` (a write only when the record says otherwise)."""
    stored = con.execute(f"SELECT format FROM {HASH_TABLE} WHERE entity = ?", [entity.label]).fetchone()
    if stored is None or stored[0] != HASH_FORMAT:
        con.execute(f"INSERT OR REPLACE INTO {HASH_TABLE} VALUES (?, ?)", [entity.label, HASH_FORMAT])


def _rehash_if_needed(con: duckdb.DuckDBPyConnection, entity: Entity, raw: str) -> None:
    """Hashes made under another ``HASH_FORMAT`` (or before it was recorded) are recomputed from the
    stored columns, in raw and its replaced versions alike, so that only real changes differ from what this run
    computes and a replayed raw state (built from history) hashes as raw does."""
    stored = con.execute(f"SELECT format FROM {HASH_TABLE} WHERE entity = ?", [entity.label]).fetchone()
    if stored is None or stored[0] != HASH_FORMAT:
        con.execute(f"UPDATE {raw} SET _p2c_hash = {row_hash(entity.column_names)}")
        con.execute(f"UPDATE {replaced_table(entity)} SET _p2c_hash = {row_hash(entity.column_names)}")
        _record_hash_format(con, entity)


def _nothing_received(con: duckdb.DuckDBPyConnection, before_commit: Callable[[], None] | None) -> LandResult:
    con.execute("BEGIN TRANSACTION")
    try:
        if before_commit is not None:
            before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LandResult(received=0, new=0, changed=0, deleted=0)
