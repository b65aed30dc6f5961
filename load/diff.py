"""The diff, as a pure reference: desired rows (a flow model) against actual rows (the target,
as extracted) and base values (what p2c last wrote, ``p2c_meta.pushed``).

No I/O, no clock. The planner runs the same rules in DuckDB SQL (load/diff_sql.py); property
tests hold the two to the same answers. Per matched row and owned field:

- desired equals actual: nothing to do;
- otherwise, if p2c wrote the field before and the target's value is no longer what it
  wrote, the target changed it: a conflict, settled by the model's ``on_conflict`` rule
  (``source_wins`` writes, ``target_wins`` keeps the target's value, ``fill_if_empty``
  writes only into an empty target field, ``block`` holds the whole record back);
- otherwise the field is an update.

A desired row no actual row matches is an insert (unless the target says ``create=false``).
Rows of the target no desired row matches are left alone: p2c never deletes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]
NOTE_PREFIX = "_p2c_"


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Conflict:
    field: str
    base: Any        # what p2c last wrote
    actual: Any      # what the target holds now
    desired: Any     # what the model wants
    resolution: str  # source_wins (written), target_wins (kept), filled, kept (fill_if_empty), blocked


@dataclass(frozen=True)
class Operation:
    entity: str
    action: str  # "insert", "update" or "conflict" (held back by on_conflict = block)
    key: tuple[tuple[str, Any], ...]
    changes: tuple[Change, ...]
    target_id: str | None = None   # Sales: the record's id (actual when matched, deterministic on insert)
    conflicts: tuple[Conflict, ...] = ()

    @property
    def values(self) -> dict[str, Any]:
        """The body to send: key fields on insert, then the changed fields."""
        body = dict(self.key) if self.action == "insert" else {}
        body.update({c.field: c.new for c in self.changes})
        return body


def diff3(
    entity: str,
    key: Sequence[str],
    desired: Iterable[Row],
    actual: Iterable[Row],
    base: Mapping[tuple, Mapping[str, Any]] | None = None,
    *,
    id_column: str | None = None,
    on_conflict: str = "source_wins",
    create: bool = True,
    always_send: Sequence[str] = (),
) -> list[Operation]:
    """Operations that bring ``actual`` to ``desired`` on the desired rows' owned fields.

    ``base`` maps a key tuple to the fields p2c last wrote for it (absent: never written).
    When several actual rows share a key, the one with the smallest id is the match.
    """
    base = base or {}
    identity = (*key, *((id_column,) if id_column else ()))
    actual_by_key: dict[tuple, Row] = {}
    for row in sorted(actual, key=lambda r: (r.get(id_column) is None, str(r.get(id_column)))):
        actual_by_key.setdefault(tuple(row[k] for k in key), row)
    operations = []
    for row in desired:
        key_values = tuple(row[k] for k in key)
        fields = [f for f in row if f not in identity and not f.startswith(NOTE_PREFIX)]
        current = None if None in key_values else actual_by_key.get(key_values)
        key_items = tuple(zip(key, key_values))
        if current is None:
            if create:
                changes = tuple(Change(f, None, row[f]) for f in fields)
                operations.append(Operation(entity, "insert", key_items, changes, row.get(id_column) if id_column else None))
            continue
        written = base.get(key_values, {})
        changes, conflicts = [], []
        for f in fields:
            new, old = row[f], current.get(f)
            if same(old, new):
                continue
            if f in written and not same(old, written[f]):
                resolution = _resolve(on_conflict, old)
                conflicts.append(Conflict(f, written[f], old, new, resolution))
                if resolution not in ("source_wins", "filled", "blocked"):
                    continue
            changes.append(Change(f, old, new))
        target_id = current.get(id_column) if id_column else None
        if changes:  # fields the target wants in every write of the record (e.g. a flag its rules check)
            sent = {c.field for c in changes}
            changes += [Change(f, current.get(f), row[f]) for f in fields if f in always_send and f not in sent]
        if on_conflict == "block" and conflicts:
            operations.append(Operation(entity, "conflict", key_items, tuple(changes), target_id, tuple(conflicts)))
        elif changes:
            operations.append(Operation(entity, "update", key_items, tuple(changes), target_id, tuple(conflicts)))
    return operations


def _resolve(rule: str, actual: Any) -> str:
    if rule == "fill_if_empty":
        return "filled" if is_empty(actual) else "kept"
    return {"block": "blocked"}.get(rule, rule)


def diff(entity: str, key: Sequence[str], desired: Iterable[Row], actual: Iterable[Row]) -> list[Operation]:
    """The two-way diff (no base): every difference is an update."""
    return diff3(entity, key, desired, actual)


def is_empty(value: Any) -> bool:
    return value is None or value == ""


def same(old: Any, new: Any) -> bool:
    """Equal as the target stores them: numbers by value (5000 == 5000.0000), all else exactly."""
    if _number(old) and _number(new):
        return Decimal(str(old)) == Decimal(str(new))
    return type(old) is type(new) and old == new if old is not None and new is not None else old is new


def _number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
