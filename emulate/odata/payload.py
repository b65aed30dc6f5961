"""JSON payload values -> checked Python values for a column (shared by both services)."""

import datetime as dt
import uuid

from emulate.odata.filter import FilterRules
from emulate.schema import Column, EntitySet


def coerce(column: Column, value: object, entity: EntitySet, rules: FilterRules) -> object:
    """`value` for `column`, or the OData error a real service gives for it."""
    edm = column.edm_type
    if value is None:
        if column.nullable:
            return None
        raise rules.error(
            f"A null value was found for the property named '{column.name}', which has the expected type "
            f"'{edm}[Nullable=False]'. The expected type '{edm}[Nullable=False]' does not allow null values.")
    if _fits(column, value, entity):
        return value
    raise rules.error(f"Cannot convert the literal '{value}' to the expected type '{edm}'.")


def _fits(column: Column, value: object, entity: EntitySet) -> bool:
    kind = column.type
    if kind == "string":
        return isinstance(value, str)
    if kind == "enum":
        return isinstance(value, str) and value in entity.enums[column.enum]
    if kind in ("int", "bigint"):
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("decimal", "money", "real"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "date":
        return isinstance(value, str) and _parses(dt.date.fromisoformat, value)
    if kind == "guid":
        return isinstance(value, str) and _parses(uuid.UUID, value)
    if kind == "datetime":
        return isinstance(value, str) and _parses(dt.datetime.fromisoformat, value.replace("Z", "+00:00"))
    return False


def _parses(parse, text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True
