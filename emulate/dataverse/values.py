"""Dataverse write payloads -> column values, with `@odata.bind` lookups resolved (protocols.md 1.5).

A bind value names a row of the lookup's target set in any of the forms the Web API
accepts: `/accounts(<guid>)`, `accounts(<guid>)`, an absolute URL on the service, or an
alternate key `/accounts(accountnumber='ACC-1')`. (`$n` references inside a batch are
turned into absolute URLs before the request gets here.)
"""

import re
from decimal import Decimal
from urllib.parse import unquote, urlsplit

from sqlglot import exp

from emulate.catalog import SALES_ENTITY_SETS
from emulate.dataverse.choices import check_choice, fill_default_status
from emulate.dataverse.reads import RULES, key_condition, logical_name, missing
from emulate.errors import BadRequest
from emulate.odata.keys import KeyValue, parse_resource
from emulate.odata.payload import coerce
from emulate.odata.query import column_ref
from emulate.schema import EntitySet
from emulate.store import Store, parameter, placeholder, prepared, sql

_API_PATH = re.compile(r"/?(?:api/data/v9\.[0-2]/)?(?P<segment>.*)", re.DOTALL)


def payload_values(store: Store, entity: EntitySet, body: object) -> dict:
    """Column values of a create/update body; annotations other than binds are ignored."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.", code="0x80048d19")
    values: dict = {}
    for name, value in body.items():
        if name.endswith("@odata.bind"):
            lookup = entity.lookups.get(name.removesuffix("@odata.bind"))
            if lookup is None:
                raise BadRequest(f"An undeclared property '{name.removesuffix('@odata.bind')}' which only has property annotations in the payload but no property value was found in the payload.", code="0x80060888")
            values[lookup.name] = None if value is None else bound_id(store, lookup.lookup.target, value)
            continue
        if name.startswith("@") or "@" in name:
            continue
        column = entity.column(name)
        if column is None or column.lookup:
            raise BadRequest(f"Invalid property '{name}' was found in entity '{entity.type_name}'.", code="0x80060888")
        if column.read_only:
            continue
        values[name] = column_value(entity, name, value)
    fill_default_status(entity, values)
    return values


# The platform's bounds for a money column (MoneyAttributeMetadata) and a decimal one (DecimalAttributeMetadata)
NUMBER_RANGES = {"money": (-922_337_203_685_477, 922_337_203_685_477), "decimal": (-100_000_000_000, 100_000_000_000)}


def column_value(entity: EntitySet, name: str, value: object) -> object:
    """`value` checked for the (writable, non-lookup) column `name`."""
    column = entity.column(name)
    checked = coerce(column, value, entity, RULES)
    check_choice(entity, name, checked)
    bounds = NUMBER_RANGES.get(column.type)
    if bounds and checked is not None and not bounds[0] <= Decimal(str(checked)) <= bounds[1]:
        raise BadRequest(f"A validation error occurred. The value {value} of '{name}' on record of type '{logical_name(entity)}' "
                         f"is outside the valid range. Accepted range: {bounds[0]} to {bounds[1]}", code="0x80044331")
    if column.max_length and isinstance(value, str) and len(value) > column.max_length:
        raise BadRequest(f"A validation error occurred. The length of the '{name}' attribute of the '{logical_name(entity)}' entity exceeded the maximum allowed length of '{column.max_length}'.", code="0x80044331")
    return checked


def entity_reference(reference: object) -> tuple[EntitySet, dict[str | None, KeyValue]] | None:
    """(entity set, key) named by an entity URL in any accepted form, or None."""
    text = str(reference)
    path = unquote(urlsplit(text).path) if re.match(r"https?://", text) else text
    resource = parse_resource(_API_PATH.fullmatch(path).group("segment"))
    entity = SALES_ENTITY_SETS.get(resource.entity_set) if resource else None
    if entity is None or resource.key is None:
        return None
    return entity, resource.key


def bound_id(store: Store, target_name: str, reference: object) -> str:
    """The primary key of the row a bind value names; 404 if there is no such row."""
    named = entity_reference(reference)
    if named is None or named[0].name != target_name:
        raise BadRequest(f"Invalid @odata.bind value '{reference}'.", code="0x80060888")
    target, key = named
    primary = target.column(target.key[0])
    def select(where: exp.Expression) -> exp.Select:
        return exp.select(exp.cast(column_ref(primary), "VARCHAR")).from_(exp.to_table(target.table, quoted=True)).where(where)
    with store.reading() as cur:
        if None in key:  # by primary key, the usual bind: a statement prepared once per target
            key_condition(target, key)  # refuses a malformed id as the Web API does
            text = prepared(("dataverse bound id", target.table), lambda: select(exp.EQ(this=column_ref(primary), expression=placeholder(primary))))
            row = cur.execute(text, [parameter(primary, key[None].value)]).fetchone()
        else:
            row = cur.execute(sql(select(key_condition(target, key)))).fetchone()
    if row is None:
        raise missing(target, key)
    return row[0]
