"""P2C business rules of F&O (number sequences, flags), as write hooks.

Every write path of the F&O emulator (single requests and $batch) calls these hooks inside
the write's transaction. A hook may fill values, change related rows through ``cur``, or
raise a ``ServiceError`` (usually the AxODataWriteException ``BadRequest``) to refuse it.
"""

from emulate.schema import EntitySet
from emulate.store import Cursor, Store

PARTY_SEQUENCE = "fno_partynumber"


def before_create(cur: Cursor, entity: EntitySet, values: dict) -> None:
    """Fill what F&O fills on insert: party numbers (spec/decisions.md 4)."""
    if "PartyNumber" in values and not values["PartyNumber"]:
        values["PartyNumber"] = f"{Store.next_value(cur, PARTY_SEQUENCE):09d}"


def before_update(cur: Cursor, entity: EntitySet, key: dict, values: dict) -> None:
    """Refuse or complete an update before it is stored."""


def after_write(cur: Cursor, entity: EntitySet, key: dict) -> None:
    """Maintain related rows after a create or update."""
