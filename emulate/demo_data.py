"""Deterministic demo data for a fresh tenant, from (seed, scale).

Rows are drawn from `random.Random(seed)` and inserted in columnar chunks
(`unnest` of parameter lists), so memory stays flat at any scale. Timestamps are
fixed offsets from base dates, never the wall clock.
"""

import datetime as dt
import random
import uuid
from collections.abc import Iterator

from sqlglot import exp

from emulate.catalog import ACCOUNTS, CUSTOMERS_V2, TRANSACTION_CURRENCIES
from emulate.dataverse.rules import ACCOUNT_NUMBER_START, account_number
from emulate.schema import DUCKDB_TYPES, EntitySet
from emulate.store import Cursor, sql

ACCOUNTS_PER_SCALE = 200
CHUNK_ROWS = 10_000
BASE_CREATED = dt.datetime(2024, 1, 2, 8, 0, 0)
BASE_MODIFIED = dt.datetime(2026, 1, 5, 10, 0, 0)
FIRST_VERSION = 1_000_000

CURRENCIES = (  # iso, name, symbol, rate against the base currency USD
    ("USD", "US Dollar", "$", 1.0), ("EUR", "Euro", "€", 0.92),
    ("CAD", "Canadian Dollar", "CA$", 1.36), ("GBP", "Pound Sterling", "£", 0.79),
)
# (country as Sales users type it, ISO code, currency, weight, [(city, state, county, postal code prefix)])
COUNTRIES = (
    ("United States", "US", "USD", 55, [("Seattle", "WA", "King", "981"), ("Redmond", "WA", "King", "980"),
                                        ("Chicago", "IL", "Cook", "606"), ("Austin", "TX", "Travis", "787"),
                                        ("Boston", "MA", "Suffolk", "021"), ("Denver", "CO", "Denver", "802")]),
    ("Germany", "DE", "EUR", 12, [("Berlin", "BE", "", "101"), ("München", "BY", "", "803"), ("Hamburg", "HH", "", "204")]),
    ("Canada", "CA", "CAD", 10, [("Toronto", "ON", "", "M5V"), ("Vancouver", "BC", "", "V6B")]),
    ("United Kingdom", "GB", "GBP", 10, [("London", "", "Greater London", "EC1"), ("Leeds", "", "West Yorkshire", "LS1")]),
    ("France", "FR", "EUR", 5, [("Paris", "", "", "750"), ("Lyon", "", "", "690")]),
    (None, "US", "USD", 8, [("Portland", "OR", "Multnomah", "972"), ("Miami", "FL", "Miami-Dade", "331")]),
)
NAME_HEADS = ("Contoso", "Fabrikam", "Adventure Works", "Northwind", "Litware", "Proseware", "Tailspin", "Wingtip",
              "Alpine Ski", "Blue Yonder", "Coho", "Fourth Coffee", "Lucerne", "Margie's", "Trey Research",
              "Woodgrove", "Humongous", "Relecloud", "O'Neil", "Datum", "Graphic Design", "Southridge")
NAME_TAILS = ("Ltd", "Inc", "GmbH", "Corporation", "Partners", "Group", "Supplies", "Logistics", "Pharmaceuticals",
              "Bikes", "Traders", "Systems", "& Sons", "Holdings")
STREETS = ("Main St", "Oak Avenue", "Market Street", "Hauptstraße", "King Street", "Rue de Rivoli", "Pine Road", "Elm Way")


def _guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _maybe(rng: random.Random, share_null: float, value):
    return None if rng.random() < share_null else value


def currency_rows(rng: random.Random) -> list[dict]:
    return [{"transactioncurrencyid": _guid(rng), "isocurrencycode": iso, "currencyname": name, "currencysymbol": symbol,
             "exchangerate": rate, "statecode": 0, "modifiedon": BASE_CREATED, "versionnumber": 0}
            for iso, name, symbol, rate in CURRENCIES]


def account_rows(rng: random.Random, seed: int, count: int, currency_ids: dict[str, str]) -> Iterator[dict]:
    weights = [c[3] for c in COUNTRIES]
    for index in range(count):
        country, _, currency, _, cities = rng.choices(COUNTRIES, weights)[0]
        city, state, county, postal = rng.choice(cities)
        other_city = rng.choice(cities)
        created = BASE_CREATED + dt.timedelta(minutes=rng.randrange(0, 600 * 24 * 60))
        modified = min(created + dt.timedelta(minutes=rng.randrange(0, 200 * 24 * 60)), BASE_MODIFIED)
        inactive = rng.random() < 0.03
        name = f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}"
        domain = "".join(ch for ch in name.lower() if ch.isalnum())[:20]
        yield {
            "accountid": _guid(rng),
            "accountnumber": account_number(ACCOUNT_NUMBER_START + index, seed),
            "name": name,
            "address1_line1": f"{rng.randrange(1, 9999)} {rng.choice(STREETS)}",
            "address1_city": city, "address1_stateorprovince": state or None, "address1_postalcode": f"{postal}{rng.randrange(10, 99)}",
            "address1_county": county or None, "address1_country": country,
            "address2_line1": _maybe(rng, 0.5, f"PO Box {rng.randrange(100, 9999)}"),
            "address2_city": _maybe(rng, 0.5, other_city[0]), "address2_stateorprovince": _maybe(rng, 0.6, other_city[1] or None),
            "address2_postalcode": _maybe(rng, 0.5, f"{other_city[3]}{rng.randrange(10, 99)}"), "address2_county": None,
            "address2_country": _maybe(rng, 0.5, country),
            "telephone1": _maybe(rng, 0.05, f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"),
            "fax": _maybe(rng, 0.6, f"+1-555-{rng.randrange(100, 999)}-{rng.randrange(1000, 9999)}"),
            "emailaddress1": _maybe(rng, 0.1, f"info{index}@{domain}.example"),
            "websiteurl": _maybe(rng, 0.3, f"https://www.{domain}.example"),
            "_transactioncurrencyid_value": currency_ids[rng.choice([c[0] for c in CURRENCIES]) if rng.random() < 0.1 else currency],
            "creditlimit": _maybe(rng, 0.25, float(rng.randrange(1, 500) * 1000)),
            "description": _maybe(rng, 0.7, f"Customer since {created.year}."),
            "numberofemployees": _maybe(rng, 0.2, rng.randrange(1, 20000)),
            "customertypecode": rng.choices([3, 1, None], [90, 3, 7])[0],
            "statecode": 1 if inactive else 0, "statuscode": 2 if inactive else 1,
            "createdon": created, "modifiedon": modified, "versionnumber": 0,
        }


def customer_rows(rng: random.Random, scale: int) -> Iterator[dict]:
    """F&O-native customers: US-### in usmf, DE-### in demf (never a Sales account number)."""
    for company, prefix, per_scale, country, currency, city in (
            ("usmf", "US", 5, "US", "USD", ("Seattle", "WA", "98052")), ("demf", "DE", 3, "DE", "EUR", ("Berlin", "BE", "10115"))):
        for number in range(1, per_scale * scale + 1):
            yield {
                "dataAreaId": company, "CustomerAccount": f"{prefix}-{number:03d}", "PartyNumber": "",
                "PartyType": "Organization", "OrganizationName": f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}",
                "CustomerGroupId": rng.choice(["10", "20", "30"]), "SiteId": "1", "WarehouseId": "13",
                "LanguageId": "en-us" if country == "US" else "de", "IsExternallyMaintained": "No",
                "SalesCurrencyCode": currency, "AddressStreet": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
                "AddressCity": city[0], "AddressZipCode": city[2], "AddressState": city[1], "AddressCounty": "",
                "AddressCountryRegionISOCode": country, "InvoiceAddressStreet": "", "InvoiceAddressCity": "",
                "InvoiceAddressZipCode": "", "InvoiceAddressState": "", "InvoiceAddressCounty": "",
                "InvoiceAddressCountryRegionISOCode": "", "PrimaryContactPhone": f"+1-555-{rng.randrange(1000, 9999)}",
                "PrimaryContactFax": "", "PrimaryContactEmail": "", "PrimaryContactURL": "",
                "CreditLimit": float(rng.randrange(0, 100) * 1000), "SalesMemo": "",
                "OrganizationNumberOfEmployees": rng.randrange(0, 5000), "RecId": 0, "RecVersion": 0,
            }


def insert_rows(cur: Cursor, entity: EntitySet, rows: Iterator[dict]) -> None:
    """Insert rows chunk by chunk as columnar lists."""
    columns = entity.columns
    statement = sql(exp.insert(
        exp.select(*(exp.cast(exp.Anonymous(this="unnest", expressions=[exp.Placeholder()]), DUCKDB_TYPES[c.type]) for c in columns)),
        exp.to_table(entity.table, quoted=True), columns=[exp.to_identifier(c.name, quoted=True) for c in columns]))
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK_ROWS:
            cur.execute(statement, [[r[c.name] for r in chunk] for c in columns])
            chunk = []
    if chunk:
        cur.execute(statement, [[r[c.name] for r in chunk] for c in columns])


def number_versions(cur: Cursor, entity: EntitySet, first: int) -> int:
    """Give rows row versions in modification order; returns the next free version."""
    table, key = exp.to_table(entity.table, quoted=True).sql("duckdb"), exp.to_identifier(entity.key[0], quoted=True).sql("duckdb")
    cur.execute(f"UPDATE {table} SET versionnumber = v.n FROM (SELECT {key} AS k, {int(first) - 1} + row_number() "
                f"OVER (ORDER BY modifiedon, {key}) AS n FROM {table}) v WHERE {table}.{key} = v.k")
    return cur.execute(f"SELECT coalesce(max(versionnumber), {int(first) - 1}) + 1 FROM {table}").fetchone()[0]


def number_fno_rows(cur: Cursor, entity: EntitySet, first_recid: int, first_party: int) -> tuple[int, int]:
    """RecId, RecVersion and PartyNumber for seeded F&O rows, in key order; returns the next free values."""
    table = exp.to_table(entity.table, quoted=True).sql("duckdb")
    cur.execute(f"UPDATE {table} SET \"RecId\" = v.n + {int(first_recid) - 1}, \"RecVersion\" = 1, "
                f"\"PartyNumber\" = lpad(CAST(v.n + {int(first_party) - 1} AS VARCHAR), 9, '0') FROM (SELECT \"dataAreaId\" AS c, "
                f"\"CustomerAccount\" AS a, row_number() OVER (ORDER BY \"dataAreaId\", \"CustomerAccount\") AS n FROM {table}) v "
                f"WHERE {table}.\"dataAreaId\" = v.c AND {table}.\"CustomerAccount\" = v.a")
    count = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    return first_recid + count, first_party + count


def seed_entities(cur: Cursor, seed: int, scale: int) -> dict[str, int]:
    """Fill every entity table; returns the next free value of each counter."""
    rng = random.Random(seed)
    currencies = currency_rows(rng)
    insert_rows(cur, TRANSACTION_CURRENCIES, iter(currencies))
    currency_ids = {row["isocurrencycode"]: row["transactioncurrencyid"] for row in currencies}
    account_count = ACCOUNTS_PER_SCALE * scale
    insert_rows(cur, ACCOUNTS, account_rows(rng, seed, account_count, currency_ids))
    next_version = number_versions(cur, TRANSACTION_CURRENCIES, FIRST_VERSION)
    next_version = number_versions(cur, ACCOUNTS, next_version)
    insert_rows(cur, CUSTOMERS_V2, customer_rows(rng, scale))
    next_recid, next_party = number_fno_rows(cur, CUSTOMERS_V2, 5_637_144_576, 1001)
    return {"sales_versionnumber": next_version, "sales_accountnumber": ACCOUNT_NUMBER_START + account_count,
            "fno_recid": next_recid, "fno_recversion": 2, "fno_partynumber": next_party}
