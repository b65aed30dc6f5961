"""Server-side behaviour of the P2C Sales solution (p2c-mappings.md 1.2), as write hooks.

Every write path of the Dataverse emulator (single requests, bulk actions, $batch) calls
these hooks inside the write's transaction, so the rules hold however a client writes.
A hook may fill values, change related rows through ``cur``, or raise a ``ServiceError``
(for example ``BadRequest`` with the real code) to refuse the write.
"""

import datetime as dt
import random
import string
from dataclasses import dataclass

from emulate.schema import EntitySet
from emulate.store import Cursor, Store

ACCOUNT_NUMBER_SEQUENCE = "sales_accountnumber"
ACCOUNT_NUMBER_START = 1000


@dataclass(frozen=True)
class RuleContext:
    seed: int  # the tenant's seed: generated numbers are deterministic for it
    now: dt.datetime


def account_number(sequence_value: int, seed: int) -> str:
    """`ACC-#####-XXXXXX`: the P2C auto-number with six letters, deterministic for a seed."""
    letters = random.Random(f"{seed}:{sequence_value}").choices(string.ascii_uppercase, k=6)
    return f"ACC-{sequence_value:05d}-{''.join(letters)}"


def before_create(cur: Cursor, entity: EntitySet, values: dict, ctx: RuleContext) -> None:
    """Fill what the P2C plug-ins fill before a record is created (PreOperation…Create)."""
    if entity.name == "accounts" and not values.get("accountnumber"):
        values["accountnumber"] = account_number(Store.next_value(cur, ACCOUNT_NUMBER_SEQUENCE), ctx.seed)


def before_update(cur: Cursor, entity: EntitySet, row_id: str, values: dict, ctx: RuleContext) -> None:
    """Refuse or complete an update before it is stored (PreOperation…Update)."""


def after_write(cur: Cursor, entity: EntitySet, row_id: str, ctx: RuleContext) -> None:
    """Maintain related rows after a create or update (PostOperation… steps)."""


def before_delete(cur: Cursor, entity: EntitySet, row_id: str, ctx: RuleContext) -> None:
    """Refuse a delete, or tidy related rows, before the row goes."""
