"""Dataverse change tracking: `Prefer: odata.track-changes`, delta tokens and delta pages (protocols.md 1.4).

Row versions come from one tenant-wide sequence (`versionnumber`), so a token is the
highest version a client has seen plus the time it was issued: `<version>!<MM/dd/yyyy HH:mm:ss>`.
A delta holds the rows whose version is above the token's (changed or created, full
selected columns, in key order), then the rows deleted since (`$deletedEntity`), read
from a deletions log that every delete writes inside its own transaction.
"""

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from emulate.errors import BadRequest
from emulate.odata.query import Field, column_ref, page_select
from emulate.schema import EntitySet
from emulate.server import Request
from emulate.store import Cursor, Store, literal, sql

DELETIONS_TABLE = "sales_deletions"
DEFAULT_RETENTION = dt.timedelta(days=7)  # Organization.ExpireChangeTrackingInDays, documented default (D7)
_STAMP = "%m/%d/%Y %H:%M:%S"
_REFUSED = ("$filter", "$orderby", "$expand", "$top")


def _table() -> exp.Table:
    return exp.to_table(DELETIONS_TABLE, quoted=True)


def ensure_deletions_table(store: Store) -> None:
    """Create the deletions log if this state file has none yet."""
    with store.writing() as cur:
        cur.execute(f"CREATE TABLE IF NOT EXISTS {_table().sql('duckdb')} "
                    "(entity_set VARCHAR NOT NULL, id VARCHAR NOT NULL, versionnumber BIGINT NOT NULL, deletedon TIMESTAMP NOT NULL)")


def record_deletion(cur: Cursor, entity: EntitySet, row_id: str, version: int, when: dt.datetime) -> None:
    """Remember a deleted row for later deltas (call inside the delete's transaction)."""
    cur.execute(sql(exp.insert(exp.values([(exp.Literal.string(entity.name), exp.Literal.string(str(row_id).lower()),
                                            exp.Literal.number(int(version)),
                                            exp.cast(exp.Literal.string(_utc(when).strftime("%Y-%m-%d %H:%M:%S")), "TIMESTAMP"))]),
                               _table())))


def _utc(when: dt.datetime) -> dt.datetime:
    """Naive UTC, as the store keeps time."""
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None) if when.tzinfo else when


@dataclass(frozen=True)
class DeltaToken:
    version: int
    issued: dt.datetime  # naive UTC

    @property
    def text(self) -> str:
        return f"{self.version}!{self.issued.strftime(_STAMP)}"

    @classmethod
    def parse(cls, text: str) -> "DeltaToken":
        version, _, stamp = text.strip().partition("!")
        try:
            return cls(int(version), dt.datetime.strptime(stamp, _STAMP))
        except ValueError:
            raise BadRequest("The $deltatoken query option value is not valid.", code="0x80060888") from None


def refuse_tracking_options(request: Request) -> None:
    """`$filter`, `$orderby`, `$expand` and `$top` cannot be combined with change tracking (D7)."""
    for name in _REFUSED:
        if request.param(name) is not None:
            raise BadRequest(f'The "{name}" query parameter isn\'t supported when Change Tracking is enabled.', code="0x80060888")


class ChangeTracking:
    """Tokens and delta pages of the change-tracked entity sets; `retention` is settable for tests."""

    def __init__(self, store: Store, clock: Callable[[], dt.datetime], retention: dt.timedelta = DEFAULT_RETENTION) -> None:
        self.store, self.clock, self.retention = store, clock, retention
        ensure_deletions_table(store)

    def now(self) -> dt.datetime:
        return _utc(self.clock()).replace(microsecond=0)

    def current(self, cur: Cursor, entity: EntitySet) -> DeltaToken:
        """A token for everything committed to `entity` so far."""
        version = exp.Max(this=column_ref(entity.column("versionnumber")))
        rows = exp.select(version).from_(exp.to_table(entity.table, quoted=True))
        deleted = exp.select(exp.Max(this=exp.column("versionnumber"))).from_(_table()).where(self._of(entity))
        latest = cur.execute(f"SELECT coalesce(greatest(({sql(rows)}), ({sql(deleted)})), 0)").fetchone()[0]
        return DeltaToken(int(latest), self.now())

    def accept(self, text: str) -> DeltaToken:
        """The token a client sent back, unless it has expired."""
        token = DeltaToken.parse(text)
        if token.issued < self.now() - self.retention:
            raise BadRequest("Version stamp associated with the client has expired. Please perform a full sync.", code="0x80044352")
        return token

    def changed_rows(self, cur: Cursor, entity: EntitySet, fields: list[Field], since: int, until: int,
                     after: str | None, limit: int) -> list[tuple[str, str]]:
        """(row JSON, key) of rows changed in (since, until], in key order after `after`."""
        key = entity.column(entity.key[0])
        version = column_ref(entity.column("versionnumber"))
        where = exp.and_(exp.GT(this=version, expression=exp.Literal.number(since)),
                         exp.LTE(this=version, expression=exp.Literal.number(until)))
        if after:
            where = exp.and_(where, exp.GT(this=column_ref(key), expression=literal(key, after)))
        query = page_select(entity, fields, where, [], limit, extra=[exp.cast(column_ref(key), "VARCHAR")])
        return cur.execute(sql(query)).fetchall()

    def deleted_ids(self, cur: Cursor, entity: EntitySet, since: int, until: int, after: str | None, limit: int | None) -> list[str]:
        """Ids deleted in (since, until] that do not exist again, in id order after `after`."""
        key = entity.column(entity.key[0])
        id_column = exp.column("id", table=exp.to_identifier("deleted", quoted=True))
        alive = exp.select(exp.Literal.number(1)).from_(exp.to_table(entity.table, quoted=True)) \
            .where(exp.EQ(this=exp.cast(column_ref(key), "VARCHAR"), expression=id_column))
        where = exp.and_(self._of(entity, "deleted"),
                         exp.GT(this=exp.column("versionnumber", table=exp.to_identifier("deleted", quoted=True)), expression=exp.Literal.number(since)),
                         exp.LTE(this=exp.column("versionnumber", table=exp.to_identifier("deleted", quoted=True)), expression=exp.Literal.number(until)),
                         exp.Not(this=exp.Exists(this=alive)))
        if after:
            where = exp.and_(where, exp.GT(this=id_column, expression=exp.Literal.string(after)))
        query = exp.select(id_column).distinct().from_(exp.alias_(_table(), "deleted", table=True, quoted=True)) \
            .where(where).order_by(id_column)
        if limit is not None:
            query = query.limit(limit)
        return [row[0] for row in cur.execute(sql(query)).fetchall()]

    def count(self, entity: EntitySet, token: DeltaToken) -> int:
        """How many rows a delta from `token` holds (`/$count?$deltatoken=`)."""
        with self.store.reading() as cur:
            until = self.current(cur, entity).version
            version = column_ref(entity.column("versionnumber"))
            changed = cur.execute(sql(exp.select(exp.Count(this=exp.Star())).from_(exp.to_table(entity.table, quoted=True))
                                      .where(exp.and_(exp.GT(this=version, expression=exp.Literal.number(token.version)),
                                                      exp.LTE(this=version, expression=exp.Literal.number(until)))))).fetchone()[0]
            return changed + len(self.deleted_ids(cur, entity, token.version, until, None, None))

    @staticmethod
    def deleted_json(api_root: str, entity: EntitySet, row_id: str) -> str:
        return json.dumps({"@odata.context": f"{api_root}$metadata#{entity.name}/$deletedEntity", "id": row_id, "reason": "deleted"},
                          separators=(",", ":"))

    @staticmethod
    def _of(entity: EntitySet, table: str | None = None) -> exp.Expression:
        return exp.EQ(this=exp.column("entity_set", table=exp.to_identifier(table, quoted=True) if table else None),
                      expression=exp.Literal.string(entity.name))
