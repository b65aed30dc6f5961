"""Things users do in the emulated systems between syncs, deterministic for a seed."""

import random

from emulate.catalog import ACCOUNTS
from emulate.demo_data import COUNTRIES, NAME_HEADS, NAME_TAILS
from emulate.tenant import EmulatedTenant


def edit_accounts(tenant: EmulatedTenant, count: int, seed: int) -> list[str]:
    """A Sales user edits `count` active accounts (phone, city, sometimes the name).

    Each edit is a normal update: new `modifiedon`, new row version. Returns the
    changed account numbers, sorted.
    """
    rng = random.Random(seed)
    active = sorted((row["accountnumber"], row["accountid"]) for row in tenant.sales.rows("accounts")
                    if row["statecode"] == 0 and row["accountnumber"])
    chosen = rng.sample(active, min(count, len(active)))
    cities = [city for country in COUNTRIES for city, *_ in country[4]]
    for _, account_id in chosen:
        values = {"telephone1": f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}",
                  "address1_city": rng.choice(cities)}
        if rng.random() < 0.3:
            values["name"] = f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}"
        tenant.sales.writes.edit(ACCOUNTS, account_id, values)
    return sorted(number for number, _ in chosen)
