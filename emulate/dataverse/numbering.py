"""Auto-numbers of the Sales tenant: P2C account/contact numbers and the platform's document numbers.

P2C numbers records `ACC-#####-XXXXXX` / `CON-#####-XXXXXX` from its `msdynce_p2cautonumber`
table (p2c-mappings.md 1.2, format [DOC]); quotes, orders and invoices use the platform's
auto-numbering, `QUO-`, `ORD-`, `INV-` with a five-digit counter and six random characters.
Random parts are a hash of the tenant's seed and the counter, so a fresh tenant numbers deterministically.
"""

import hashlib
import string

from emulate.store import Cursor, Store

FIRST_NUMBER = 1000
# entity set -> (numbered column, prefix, sequence, alphabet of the random suffix)
NUMBERED = {
    "accounts": ("accountnumber", "ACC", "sales_accountnumber", string.ascii_uppercase),
    "contacts": ("msdynce_contactnumber", "CON", "sales_contactnumber", string.ascii_uppercase),
    "quotes": ("quotenumber", "QUO", "sales_quotenumber", string.ascii_uppercase + string.digits),
    "salesorders": ("ordernumber", "ORD", "sales_ordernumber", string.ascii_uppercase + string.digits),
    "invoices": ("invoicenumber", "INV", "sales_invoicenumber", string.ascii_uppercase + string.digits),
}


def format_number(entity_set: str, sequence_value: int, seed: int) -> str:
    """`<PREFIX>-#####-XXXXXX` for the `sequence_value`-th record of `entity_set`."""
    _, prefix, _, alphabet = NUMBERED[entity_set]
    digest = int.from_bytes(hashlib.blake2b(f"{seed}:{prefix}:{sequence_value}".encode(), digest_size=8).digest(), "big")
    suffix = []
    for _ in range(6):
        digest, index = divmod(digest, len(alphabet))
        suffix.append(alphabet[index])
    return f"{prefix}-{sequence_value:05d}-{''.join(suffix)}"


def account_number(sequence_value: int, seed: int) -> str:
    return format_number("accounts", sequence_value, seed)


def assign_number(cur: Cursor, entity_set: str, values: dict, seed: int) -> None:
    """Fill the entity's number column on create unless the client supplied one."""
    if entity_set not in NUMBERED:
        return
    column, _, sequence, _ = NUMBERED[entity_set]
    if not values.get(column):
        values[column] = format_number(entity_set, Store.next_value(cur, sequence), seed)
