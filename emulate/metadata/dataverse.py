"""Dataverse metadata facts of a catalog entity set: logical names, attribute types, option sets.

Everything is derived from `emulate.catalog` definitions, so entities added there appear
in `EntityDefinitions` and `$metadata` without further work.
"""

import uuid

from emulate.catalog import SALES_ENTITY_SETS
from emulate.schema import Column, EntitySet

LANGUAGE_CODE = 1033
_NAMESPACE = uuid.UUID("6b1d5b43-0c4e-4b8e-9f51-9d7c3b2f8a10")
_TYPE_NAMES = {  # AttributeType of a column kind (Microsoft.Dynamics.CRM.AttributeTypeCode)
    "guid": "Uniqueidentifier", "string": "String", "int": "Integer", "bigint": "BigInt", "decimal": "Decimal",
    "money": "Money", "real": "Double", "bool": "Boolean", "datetime": "DateTime", "date": "DateTime",
}
_METADATA_TYPES = {"Uniqueidentifier": "UniqueIdentifier", "Customer": "Lookup", "Owner": "Lookup"}


def logical_name(entity: EntitySet) -> str:
    """`account` from `Microsoft.Dynamics.CRM.account`."""
    return entity.type_name.rsplit(".", 1)[1]


def metadata_id(*parts: str) -> str:
    """A stable MetadataId for a named piece of metadata."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def attribute_name(column: Column) -> str:
    """The attribute's logical name: `transactioncurrencyid` for the `_transactioncurrencyid_value` column."""
    if column.lookup and column.name.startswith("_") and column.name.endswith("_value"):
        return column.name[1:-len("_value")]
    return column.name


def lookup_target(column: Column) -> EntitySet | None:
    """The entity set a lookup column points at, when the catalog defines it."""
    return SALES_ENTITY_SETS.get(column.lookup.target) if column.lookup else None


def attribute_type(entity: EntitySet, column: Column) -> str:
    """The AttributeType Dataverse reports for a column."""
    if column.lookup:
        if column.more_lookups:
            return "Customer"
        return "Owner" if attribute_name(column) == "ownerid" else "Lookup"
    if column.options:
        return {"statecode": "State", "statuscode": "Status"}.get(column.name, "Picklist")
    if column.type == "string" and not column.max_length:
        return "Memo"
    return _TYPE_NAMES[column.type]


def metadata_type(entity: EntitySet, column: Column) -> str:
    """`PicklistAttributeMetadata`, `StringAttributeMetadata`, ... (the `@odata.type` of an attribute)."""
    kind = attribute_type(entity, column)
    return f"{_METADATA_TYPES.get(kind, kind)}AttributeMetadata"


def primary_name(entity: EntitySet) -> str | None:
    """The primary name column: `name`, else `fullname`, else the first string column ending in `name`."""
    strings = [c.name for c in entity.served if c.type == "string" and not c.lookup]
    for candidate in ("name", "fullname"):
        if candidate in strings:
            return candidate
    return next((name for name in strings if name.endswith("name")), None)


def is_datetime(column: Column) -> bool:
    return column.type in ("datetime", "date")


def label(text: str, *owner: str) -> dict:
    """A Label complex value with one en-US localized label."""
    localized = {"Label": text, "LanguageCode": LANGUAGE_CODE, "IsManaged": True,
                 "MetadataId": metadata_id(*owner, "label", text), "HasChanged": None}
    return {"LocalizedLabels": [localized], "UserLocalizedLabel": localized}


def option_set(entity: EntitySet, column: Column) -> dict:
    """The OptionSet of a choice column with its Options."""
    owner = (logical_name(entity), column.name)
    kind = attribute_type(entity, column)
    return {
        "MetadataId": metadata_id(*owner, "optionset"),
        "Name": f"{logical_name(entity)}_{column.name}",
        "IsGlobal": False,
        "OptionSetType": kind if kind in ("State", "Status") else "Picklist",
        "Options": [{"Value": value, "Color": None, "IsManaged": True, "ExternalValue": "", "ParentValues": [],
                     "MetadataId": None, "HasChanged": None, "Label": label(text, *owner, str(value)),
                     "Description": label("", *owner, str(value), "description")}
                    for value, text in column.options],
    }


def attribute(entity: EntitySet, column: Column) -> dict:
    """AttributeMetadata of one column (the properties clients read)."""
    kind = attribute_type(entity, column)
    name = attribute_name(column)
    item = {
        "@odata.type": f"#Microsoft.Dynamics.CRM.{metadata_type(entity, column)}",
        "MetadataId": metadata_id(logical_name(entity), name),
        "LogicalName": name,
        "SchemaName": name,
        "EntityLogicalName": logical_name(entity),
        "AttributeType": kind,
        "AttributeTypeName": {"Value": f"{kind}Type"},
        "IsPrimaryId": name == entity.key[0],
        "IsPrimaryName": name == primary_name(entity),
        "IsValidForCreate": not column.read_only,
        "IsValidForUpdate": not column.read_only and name != entity.key[0],
        "IsValidForRead": True,
        "RequiredLevel": {"Value": "SystemRequired" if not column.nullable else "None", "CanBeChanged": False,
                          "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings"},
        "DisplayName": label(column.label or name, logical_name(entity), name),
    }
    if column.max_length and kind in ("String", "Memo"):
        item["MaxLength"] = column.max_length
    if column.lookup:
        lookups = (column.lookup, *column.more_lookups)
        item["Targets"] = [logical_name(SALES_ENTITY_SETS[lookup.target]) for lookup in lookups if lookup.target in SALES_ENTITY_SETS]
    if is_datetime(column):
        item["Format"] = "DateOnly" if column.type == "date" else "DateAndTime"
        item["DateTimeBehavior"] = {"Value": "DateOnly" if column.type == "date" else "UserLocal"}
    return item
