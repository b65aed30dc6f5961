"""Landing: pages → a spool table → the raw table (latest version) and its history (SCD2).

Nothing in ``raw_*`` changes until every page of an entity has arrived; the merge then
runs in one transaction, so an interrupted extract leaves the raw tables as they were.
A change-tracking read also carries ``$deletedEntity`` rows (``id``, ``reason``): the
merge marks those keys deleted, and everything else it received as new or changed.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb

from extract.errors import PageError
from extract.registry import TRACKING_MEMBERS, Entity
from extract.sql import column_list, ident, key_match, row_hash, table

META_COLUMNS = (
    ("_p2c_run_id", "BIGINT"),
    ("_p2c_extracted_at", "TIMESTAMP"),
    ("_p2c_hash", "VARCHAR"),
    ("_p2c_deleted", "BOOLEAN"),
)
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


def history_table(entity: Entity) -> str:
    return table(entity.schema, f"{entity.entity_set}__history")


def ensure_raw_tables(con: duckdb.DuckDBPyConnection, entity: Entity) -> None:
    """Create the raw and history tables, adding columns newly declared in the registry."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {ident(entity.schema)}")
    for name, extra in ((entity.entity_set, META_COLUMNS), (f"{entity.entity_set}__history", HISTORY_COLUMNS)):
        target = table(entity.schema, name)
        columns = (*entity.columns, *extra)
        con.execute(f"CREATE TABLE IF NOT EXISTS {target} ({', '.join(f'{ident(n)} {t}' for n, t in columns)})")
        present = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                [entity.schema, name],
            ).fetchall()
        }
        for column, type_ in columns:
            if column not in present:
                con.execute(f"ALTER TABLE {target} ADD COLUMN {ident(column)} {type_}")


class PageSpool:
    """Receives an entity's pages as raw bytes and parses them in DuckDB, not row by row in Python.

    ``tracking`` reads (Dataverse change tracking) also keep each row's ``id`` and ``reason``,
    which only ``$deletedEntity`` rows have, and the last page's ``@odata.deltaLink``.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, entity: Entity, *, tracking: bool = False) -> None:
        self.con = con
        self.entity = entity
        self.tracking = tracking
        self.pages = 0
        self.delta_link: str | None = None
        self.name = ident(f"_spool_{entity.system}_{entity.entity_set}")
        self._dir = tempfile.TemporaryDirectory(prefix="p2c-spool-")
        fields = (*entity.columns, *((m, "VARCHAR") for m in TRACKING_MEMBERS if tracking))
        struct = ", ".join(f"{ident(n)} {t}" for n, t in fields)
        self._read_columns = {"value": f"STRUCT({struct})[]", "@odata.nextLink": "VARCHAR", "@odata.deltaLink": "VARCHAR"}
        con.execute(f"CREATE OR REPLACE TEMP TABLE {self.name} ({struct}, _p2c_page INTEGER)")

    def add(self, body: bytes) -> str | None:
        """Spool one page; returns its ``@odata.nextLink`` and keeps its ``@odata.deltaLink``."""
        self.pages += 1
        path = Path(self._dir.name) / f"page-{self.pages}.json"
        path.write_bytes(body)
        try:
            self.con.execute(
                "CREATE OR REPLACE TEMP TABLE _p2c_page AS SELECT * FROM read_json(?, columns = ?, format = 'auto')",
                [str(path), self._read_columns],
            )
        except duckdb.Error as exc:
            first_line = str(exc).splitlines()[0].replace(str(path), f"page {self.pages}")
            raise PageError(f"{self.entity.label}: page {self.pages} could not be read: {first_line}") from exc
        finally:
            path.unlink(missing_ok=True)
        self.con.execute(
            f"INSERT INTO {self.name} SELECT unnest(value, recursive := true), ? FROM _p2c_page",
            [self.pages],
        )
        row = self.con.execute('SELECT "@odata.nextLink", "@odata.deltaLink" FROM _p2c_page').fetchone()
        next_link, self.delta_link = row if row else (None, None)
        return next_link

    def close(self) -> None:
        self.con.execute(f"DROP TABLE IF EXISTS {self.name}")
        self.con.execute("DROP TABLE IF EXISTS _p2c_page")
        self._dir.cleanup()


def merge_into_raw(
    con: duckdb.DuckDBPyConnection,
    entity: Entity,
    spool: PageSpool,
    *,
    run_id: int,
    extracted_at: datetime,
    full_read: bool,
    before_commit: Callable[[], None] | None = None,
) -> LandResult:
    """Merge the spooled rows into the raw and history tables in one transaction.

    A full read also marks rows that were not received as deleted; any read marks the keys
    of its ``$deletedEntity`` rows deleted. ``before_commit`` runs inside the transaction
    (the deltaLink is stored there), so the merge and it commit or roll back together.
    """
    raw = table(entity.schema, entity.entity_set)
    history = history_table(entity)
    cols = column_list(entity.column_names)
    keys = column_list(entity.key)
    first_key = ident(entity.key[0])
    con.execute("BEGIN TRANSACTION")
    try:
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
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _p2c_incoming AS SELECT {cols}, {row_hash(entity.column_names)} AS _p2c_hash "
            f"{received_rows} QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY _p2c_page DESC) = 1"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _p2c_changed AS SELECT i.*, r.{first_key} IS NULL AS _p2c_is_new "
            f"FROM _p2c_incoming i LEFT JOIN {raw} r ON {key_match(entity.key, 'i', 'r')} "
            f"WHERE r.{first_key} IS NULL OR r._p2c_hash <> i._p2c_hash OR r._p2c_deleted"
        )
        absent = (
            f"NOT EXISTS (SELECT 1 FROM _p2c_incoming i WHERE {key_match(entity.key, 'i', 'r')})" if full_read else "FALSE"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _p2c_gone AS SELECT {cols}, r._p2c_hash FROM {raw} r "
            f"WHERE NOT r._p2c_deleted AND ({absent} "
            f"OR EXISTS (SELECT 1 FROM _p2c_removed d WHERE {key_match(entity.key, 'd', 'r')}))"
        )
        touched = f"(SELECT {keys} FROM _p2c_changed UNION ALL SELECT {keys} FROM _p2c_gone)"
        con.execute(
            f"UPDATE {history} h SET _p2c_valid_to_run = ? WHERE h._p2c_valid_to_run IS NULL "
            f"AND EXISTS (SELECT 1 FROM {touched} t WHERE {key_match(entity.key, 't', 'h')})",
            [run_id],
        )
        con.execute(f"INSERT INTO {history} SELECT {cols}, _p2c_hash, false, ?, NULL FROM _p2c_changed", [run_id])
        con.execute(f"INSERT INTO {history} SELECT {cols}, _p2c_hash, true, ?, NULL FROM _p2c_gone", [run_id])
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
        for temp in ("_p2c_incoming", "_p2c_changed", "_p2c_gone", "_p2c_removed"):
            con.execute(f"DROP TABLE {temp}")
        if before_commit is not None:
            before_commit()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return LandResult(received=received, new=new, changed=changed, deleted=deleted)
