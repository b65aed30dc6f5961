"""Which state each Sales status reason belongs to (StatusOptionMetadata.State), as data.

Keyed by entity set; each entry maps a `statuscode` value to its `statecode`, listed so that
the first status of a state is that state's default status (StateOptionMetadata.DefaultStatus,
what the platform assigns when a write sets the state alone). Values: p2c-mappings.md 1.2
("Standard state/status values") and the platform's standard tables. `STATE_ENUMS` names the
state enumeration the platform puts in its messages (`<SchemaName>State`).
"""

STATUS_STATES: dict[str, dict[int, int]] = {
    "accounts": {1: 0, 2: 1},
    "contacts": {1: 0, 2: 1},
    "uomschedules": {1: 0, 2: 1},
    "pricelevels": {100001: 0, 100002: 1},
    "products": {1: 0, 2: 1, 0: 2, 3: 3},
    "quotes": {1: 0, 2: 1, 3: 1, 4: 2, 5: 3, 6: 3, 7: 3, 647390000: 3},
    "salesorders": {1: 0, 2: 0, 3: 1, 4: 2, 100001: 3, 100002: 3, 100003: 4},
    "invoices": {1: 0, 2: 0, 4: 0, 5: 0, 6: 0, 100001: 2, 100002: 2, 100003: 3},
}

STATE_ENUMS: dict[str, str] = {
    "accounts": "AccountState", "contacts": "ContactState", "uomschedules": "UoMScheduleState", "pricelevels": "PriceLevelState",
    "products": "ProductState", "quotes": "QuoteState", "salesorders": "SalesOrderState", "invoices": "InvoiceState",
    "transactioncurrencies": "TransactionCurrencyState",
}


def default_status(entity_set: str, state: int) -> int | None:
    """The status a state gets when a write sets the state alone, or None for a set without status reasons."""
    return next((status for status, owner in STATUS_STATES.get(entity_set, {}).items() if owner == state), None)
