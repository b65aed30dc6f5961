"""Deterministic demo data for a fresh pair of tenants, from (seed, scale).

Scale 1 is about a thousand records over every entity; scale N is N times that. Rows are
drawn from seeded `random.Random` streams (one per kind of record) and written in columnar
chunks (`unnest` of parameter lists), so memory stays flat at any scale; later records
refer to earlier ones by id lists read back from the store. Timestamps are fixed offsets
from base dates, never the wall clock. The pair is consistent: every lookup resolves,
F&O orders name existing customers and products, and Sales products mirror F&O's.
"""

import csv
import datetime as dt
import os
import random
import tempfile
from collections.abc import Iterator

from sqlglot import exp

from emulate.catalog import (
    ACCOUNTS, CUSTOMERS_V2, DEFAULT_COMPANY, FNO_ENTITY_SETS, PRICE_LEVELS, SALES_ENTITY_SETS, SYSTEM_USERS, TRANSACTION_CURRENCIES, UOM_SCHEDULES,
    UOMS,
)
from emulate.dataverse.numbering import FIRST_NUMBER, NUMBERED, account_number
from emulate.dataverse.rule_rows import VERSION_SEQUENCE
from emulate.demo_reference import (
    BASE_CREATED, BASE_MODIFIED, COUNTRIES, CURRENCIES, NAME_HEADS, NAME_TAILS, STREETS, currency_rows, guid, price_list_rows,
    unit_rows, user_rows,
)
from emulate.fno import rules as fno_rules
from emulate.fno.rule_rows import RECID_SEQUENCE, RECVERSION_SEQUENCE, blank
from emulate.schema import DUCKDB_TYPES, EntitySet
from emulate.store import Cursor, literal, sql

ACCOUNTS_PER_SCALE = 200
CHUNK_ROWS = 10_000
FIRST_VERSION = 1_000_000
FIRST_RECID = 5_637_144_576
FIRST_PARTY = 1001
_NULL = r"\N"


class ChunkWriter:
    """Buffers rows per entity and inserts them as columnar chunks; missing columns get their blank value."""

    def __init__(self, cur: Cursor) -> None:
        self.cur = cur
        self._buffers: dict[str, list[dict]] = {}
        self._entities: dict[str, EntitySet] = {}

    def add(self, entity: EntitySet, row: dict) -> None:
        buffer = self._buffers.setdefault(entity.name, [])
        self._entities[entity.name] = entity
        buffer.append(row)
        if len(buffer) == CHUNK_ROWS:
            self.flush(entity)

    def add_all(self, entity: EntitySet, rows: Iterator[dict]) -> None:
        for row in rows:
            self.add(entity, row)

    def flush(self, entity: EntitySet) -> None:
        rows = self._buffers.pop(entity.name, [])
        if rows:
            insert_chunk(self.cur, entity, rows)

    def close(self) -> None:
        for name in list(self._buffers):
            self.flush(self._entities[name])


def insert_chunk(cur: Cursor, entity: EntitySet, rows: list[dict]) -> None:
    """One INSERT for `rows`, staged as a CSV file (DuckDB reads it far faster than parameter lists).

    Columns the rows do not carry are filled with their blank value; NULL is written as `\\N`.
    """
    fno = entity.name in FNO_ENTITY_SETS
    carried = set().union(*(row.keys() for row in rows))
    sent = [c for c in entity.columns if c.name in carried]
    fills = [blank(entity, c) if fno else c.default for c in sent]
    names = [c.name for c in sent]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", encoding="utf-8", delete=False) as staged:
        writer = csv.writer(staged)
        for row in rows:
            writer.writerow([_NULL if value is None else value
                             for value in (row.get(name, fill) for name, fill in zip(names, fills))])
    try:
        source = exp.func("read_csv", exp.Literal.string(staged.name), *(
            exp.EQ(this=exp.column(option), expression=value) for option, value in (
                ("header", exp.false()), ("nullstr", exp.Literal.string(_NULL)), ("quote", exp.Literal.string('"')),
                ("escape", exp.Literal.string('"')), ("auto_detect", exp.false()),
                ("columns", exp.Struct(expressions=[exp.PropertyEQ(this=exp.Literal.string(c.name),
                                                                   expression=exp.Literal.string(DUCKDB_TYPES[c.type])) for c in sent])))))
        values = [exp.column(c.name, quoted=True) if c.name in carried
                  else exp.cast(literal(c, blank(entity, c) if fno else c.default), DUCKDB_TYPES[c.type]) for c in entity.columns]
        cur.execute(sql(exp.insert(exp.select(*values).from_(source), exp.to_table(entity.table, quoted=True),
                                   columns=[exp.to_identifier(c.name, quoted=True) for c in entity.columns])))
    finally:
        os.remove(staged.name)


def _maybe(rng: random.Random, share_null: float, value):
    return None if rng.random() < share_null else value


def account_rows(rng: random.Random, seed: int, count: int, currency_ids: dict[str, str], owners: list[str]) -> Iterator[dict]:
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
            "accountid": guid(rng),
            "accountnumber": account_number(FIRST_NUMBER + index, seed),
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
            "_ownerid_value": owners[index % len(owners)],
            "createdon": created, "modifiedon": modified, "versionnumber": 0,
        }


def customer_rows(rng: random.Random, scale: int) -> Iterator[dict]:
    """F&O-native customers: US-### in usmf, DE-### in demf (never a Sales number, never externally maintained)."""
    for company, prefix, per_scale, country, currency, city in (
            ("usmf", "US", 5, "US", "USD", ("Seattle", "WA", "98052")), ("demf", "DE", 3, "DE", "EUR", ("Berlin", "BE", "10115"))):
        for number in range(1, per_scale * scale + 1):
            yield {
                "dataAreaId": company, "CustomerAccount": f"{prefix}-{number:03d}", "PartyNumber": "",
                "PartyType": "Organization", "OrganizationName": f"{rng.choice(NAME_HEADS)} {rng.choice(NAME_TAILS)}",
                "CustomerGroupId": rng.choice(["10", "20", "30"]), "SiteId": "1", "WarehouseId": "13",
                "LanguageId": "en-us" if country == "US" else "de", "IsExternallyMaintained": "No",
                "SalesCurrencyCode": currency, "AddressStreet": f"{rng.randrange(1, 999)} {rng.choice(STREETS)}",
                "AddressCity": city[0], "AddressZipCode": city[2], "AddressState": city[1],
                "AddressCountryRegionISOCode": country, "PrimaryContactPhone": f"+1-555-{rng.randrange(1000, 9999)}",
                "CreditLimit": float(rng.randrange(0, 100) * 1000), "OrganizationNumberOfEmployees": rng.randrange(0, 5000),
            }


def number_versions(cur: Cursor, entity: EntitySet, first: int) -> int:
    """Give rows row versions in modification order; returns the next free version."""
    table, key = exp.to_table(entity.table, quoted=True).sql("duckdb"), exp.to_identifier(entity.key[0], quoted=True).sql("duckdb")
    cur.execute(f"UPDATE {table} SET versionnumber = v.n FROM (SELECT {key} AS k, {int(first) - 1} + row_number() "
                f"OVER (ORDER BY modifiedon, {key}) AS n FROM {table}) v WHERE {table}.{key} = v.k")
    return cur.execute(f"SELECT coalesce(max(versionnumber), {int(first) - 1}) + 1 FROM {table}").fetchone()[0]


def number_fno_rows(cur: Cursor, entity: EntitySet, first_recid: int, first_party: int) -> tuple[int, int]:
    """RecId and RecVersion for seeded F&O rows, and PartyNumber where blank, in key order; returns the next free values."""
    table = exp.to_table(entity.table, quoted=True).sql("duckdb")
    keys = [exp.to_identifier(k, quoted=True).sql("duckdb") for k in entity.key]
    aliases = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
    matches = " AND ".join(f"{table}.{k} = v.k{i}" for i, k in enumerate(keys))
    cur.execute(f"UPDATE {table} SET \"RecId\" = v.n + {int(first_recid) - 1}, \"RecVersion\" = 1 FROM (SELECT {aliases}, "
                f"row_number() OVER (ORDER BY {', '.join(keys)}) AS n FROM {table}) v WHERE {matches}")
    count = cur.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    if not entity.column("PartyNumber"):
        return first_recid + count, first_party
    blanks = cur.execute(f"SELECT count(*) FROM {table} WHERE \"PartyNumber\" = ''").fetchone()[0]
    cur.execute(f"UPDATE {table} SET \"PartyNumber\" = lpad(CAST(v.n + {int(first_party) - 1} AS VARCHAR), 9, '0') FROM "
                f"(SELECT {aliases}, row_number() OVER (ORDER BY {', '.join(keys)}) AS n FROM {table} WHERE \"PartyNumber\" = '') v "
                f"WHERE {matches}")
    return first_recid + count, first_party + blanks


def fno_customers(cur: Cursor, company: str) -> list[dict]:
    """The company's customers (account, externally maintained) that F&O orders may name."""
    query = exp.select(exp.column("CustomerAccount", quoted=True), exp.column("IsExternallyMaintained", quoted=True)) \
        .from_(exp.to_table(CUSTOMERS_V2.table, quoted=True)) \
        .where(exp.EQ(this=exp.column("dataAreaId", quoted=True), expression=exp.Literal.string(company))) \
        .order_by(exp.column("CustomerAccount", quoted=True))
    return [{"account": account, "external": external} for account, external in cur.execute(sql(query)).fetchall()]


def ids(cur: Cursor, entity: EntitySet, order_by: str) -> list[str]:
    """Ids of every row of `entity` in `order_by` order (what later records refer to)."""
    query = exp.select(exp.cast(exp.column(entity.key[0], quoted=True), "VARCHAR")).from_(exp.to_table(entity.table, quoted=True)) \
        .order_by(exp.column(order_by, quoted=True))
    return [row[0] for row in cur.execute(sql(query)).fetchall()]


def seed_entities(cur: Cursor, seed: int, scale: int) -> dict[str, int]:
    """Fill every entity table; returns the next free value of each counter (sequence name -> start)."""
    from emulate.demo_documents import seed_documents

    rng = random.Random(seed)
    writer = ChunkWriter(cur)
    currencies = currency_rows(rng)
    writer.add_all(TRANSACTION_CURRENCIES, iter(currencies))
    currency_ids = {row["isocurrencycode"]: row["transactioncurrencyid"] for row in currencies}
    users = user_rows(rng)
    writer.add_all(SYSTEM_USERS, iter(users))
    schedule, units = unit_rows(rng)
    writer.add(UOM_SCHEDULES, schedule)
    writer.add_all(UOMS, iter(units))
    price_lists = price_list_rows(rng, currency_ids)
    writer.add_all(PRICE_LEVELS, iter(price_lists))
    owners = [u["systemuserid"] for u in users[1:]]
    account_count = ACCOUNTS_PER_SCALE * scale
    writer.add_all(ACCOUNTS, account_rows(rng, seed, account_count, currency_ids, owners))
    writer.add_all(CUSTOMERS_V2, customer_rows(rng, scale))
    writer.close()
    counters = seed_documents(cur, writer, seed, scale, {
        "currencies": currency_ids, "owners": owners, "units": {u["name"]: u["uomid"] for u in units},
        "schedule": schedule["uomscheduleid"], "price_lists": {p["name"]: p["pricelevelid"] for p in price_lists},
        "accounts": ids(cur, ACCOUNTS, "accountnumber"),
        "fno_customers": fno_customers(cur, DEFAULT_COMPANY)})
    writer.close()
    version = FIRST_VERSION
    for entity in SALES_ENTITY_SETS.values():
        version = number_versions(cur, entity, version)
    recid, party = FIRST_RECID, FIRST_PARTY
    for entity in FNO_ENTITY_SETS.values():
        recid, party = number_fno_rows(cur, entity, recid, party)
    numbers = {NUMBERED[name][2]: start for name, start in counters.items() if name in NUMBERED}
    return {VERSION_SEQUENCE: version, NUMBERED["accounts"][2]: FIRST_NUMBER + account_count, **numbers,
            RECID_SEQUENCE: recid, RECVERSION_SEQUENCE: 2, fno_rules.PARTY_SEQUENCE: party,
            **{sequence: counters[sequence] for sequence in (
                fno_rules.NUMBER_SEQUENCES["CDSSalesQuotationHeaders"][2], fno_rules.NUMBER_SEQUENCES["CDSSalesOrderHeaders"][2],
                fno_rules.INVOICE_SEQUENCE, fno_rules.VOUCHER_SEQUENCE)}}
