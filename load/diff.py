"""The diff: desired rows (a flow model) against actual rows (the target, as extracted).

Pure: no I/O, no clock. Rows are matched on the target's key; an insert carries every
owned field, an update only the fields whose values differ.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Operation:
    entity: str
    action: str  # "insert" or "update"
    key: tuple[tuple[str, Any], ...]
    changes: tuple[Change, ...]

    @property
    def values(self) -> dict[str, Any]:
        """The body to send: key fields on insert, then the changed fields."""
        body = dict(self.key) if self.action == "insert" else {}
        body.update({c.field: c.new for c in self.changes})
        return body


def diff(
    entity: str,
    key: Sequence[str],
    desired: Iterable[Row],
    actual: Iterable[Row],
) -> list[Operation]:
    """Operations that make ``actual`` equal ``desired`` on the desired rows' fields.

    Rows of ``actual`` that no desired row matches are left alone: p2c never deletes.
    """
    actual_by_key = {tuple(row[k] for k in key): row for row in actual}
    operations = []
    for row in desired:
        key_values = tuple(row[k] for k in key)
        fields = [f for f in row if f not in key]
        current = actual_by_key.get(key_values)
        if current is None:
            changes = tuple(Change(f, None, row[f]) for f in fields)
            operations.append(Operation(entity, "insert", tuple(zip(key, key_values)), changes))
            continue
        changes = tuple(Change(f, current.get(f), row[f]) for f in fields if not same(current.get(f), row[f]))
        if changes:
            operations.append(Operation(entity, "update", tuple(zip(key, key_values)), changes))
    return operations


def same(old: Any, new: Any) -> bool:
    """Equal as the target stores them: numbers by value (5000 == 5000.0000), all else exactly."""
    if isinstance(old, (int, float, Decimal)) and isinstance(new, (int, float, Decimal)) and not isinstance(old, bool):
        return Decimal(str(old)) == Decimal(str(new))
    return old == new
