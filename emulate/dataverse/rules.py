"""Server-side behaviour the P2C Sales solution adds on create (p2c-mappings.md 1.2)."""

import random
import string

from emulate.store import Cursor, Store

ACCOUNT_NUMBER_SEQUENCE = "sales_accountnumber"
ACCOUNT_NUMBER_START = 1000


def account_number(sequence_value: int, seed: int) -> str:
    """`ACC-#####-XXXXXX`: the P2C auto-number with six letters, deterministic for a seed."""
    letters = random.Random(f"{seed}:{sequence_value}").choices(string.ascii_uppercase, k=6)
    return f"ACC-{sequence_value:05d}-{''.join(letters)}"


def on_create(cur: Cursor, entity_set: str, values: dict, seed: int) -> None:
    """Fill what the P2C plug-ins fill before a record is created."""
    if entity_set == "accounts" and not values.get("accountnumber"):
        values["accountnumber"] = account_number(Store.next_value(cur, ACCOUNT_NUMBER_SEQUENCE), seed)
