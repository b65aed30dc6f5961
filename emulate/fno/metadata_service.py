"""The F&O metadata service (`/Metadata/...`) that clients read before writing (protocols.md 2.8).

`DataEntities`, `DataEntities('<Name>')`, `PublicEntities`, `PublicEntities('<PublicEntityName>')`,
`PublicEnumerations` and `PublicEnumerations('<Name>')`, built from the catalog; unknown names are 404.
"""

import re

from emulate.catalog import FNO_ENTITY_SETS
from emulate.catalog import fno_documents
from emulate.errors import NotFound
from emulate.metadata.csdl import fno_enums
from emulate.schema import Column, EntitySet, NavigationProperty
from emulate.server import Request, Response

_PATH = re.compile(r"/Metadata/(?P<set>DataEntities|PublicEntities|PublicEnumerations)(?:\('(?P<key>(?:[^']|'')*)'\))?/?")
_DATA_TYPES = {"guid": "Guid", "string": "String", "int": "Int32", "bigint": "Int64", "decimal": "Decimal", "money": "Decimal",
               "real": "Real", "bool": "Enum", "datetime": "DateTime", "date": "Date", "enum": "Enum"}
_DOCUMENTS = {value.name for value in vars(fno_documents).values() if isinstance(value, EntitySet)}


def public_name(entity: EntitySet) -> str:
    """`CustomerV2`: the public entity (type) name; the entity set is its collection name."""
    return entity.type_name.rsplit(".", 1)[1]


def data_entity(entity: EntitySet) -> dict:
    return {
        "Name": entity.entity_class or f"{public_name(entity)}Entity",
        "PublicEntityName": public_name(entity),
        "PublicCollectionName": entity.name,
        "LabelId": entity.table_label,
        "DataServiceEnabled": True,
        "DataManagementEnabled": True,
        "DataManagementStagingTable": f"{entity.entity_class or public_name(entity)}Staging",
        "EntityCategory": "Document" if entity.name in _DOCUMENTS else "Master",
        "IsReadOnly": False,
    }


def _property(entity: EntitySet, column: Column) -> dict:
    return {
        "Name": column.name,
        "TypeName": column.enum if column.type == "enum" else column.edm_type,
        "DataType": _DATA_TYPES[column.type],
        "LabelId": column.label,
        "IsKey": column.name in entity.key,
        "IsMandatory": column.name in entity.required or column.name in entity.key,
        "ConfigurationEnabled": True,
        "AllowEdit": not column.read_only and column.name not in entity.key,
        "AllowEditOnCreate": not column.read_only,
        "IsDimension": False,
        "DimensionRelation": "",
        "IsDynamicDimension": False,
        "DimensionLegalEntityProperty": "",
        "DimensionTypeProperty": "",
    }


def _navigation(navigation: NavigationProperty) -> dict:
    """One of PublicEntities' NavigationProperties, in the shape d365fo-client reads (Name, RelatedEntity,
    RelatedRelationName, Cardinality, Constraints of `ReferentialConstraint` records)."""
    return {
        "Name": navigation.name,
        "RelatedEntity": public_name(FNO_ENTITY_SETS[navigation.target]),
        "RelatedRelationName": navigation.partner,
        "Cardinality": "Single" if navigation.single else "Multiple",
        "Constraints": [{"@odata.type": "#Microsoft.Dynamics.Metadata.ReferentialConstraint", "Property": ours,
                         "ReferencedProperty": theirs} for ours, theirs in navigation.on],
    }


def public_entity(entity: EntitySet) -> dict:
    return {
        "Name": public_name(entity),
        "EntitySetName": entity.name,
        "LabelId": entity.table_label,
        "IsReadOnly": False,
        "ConfigurationEnabled": True,
        "Properties": [_property(entity, column) for column in entity.served],
        "NavigationProperties": [_navigation(navigation) for navigation in entity.navigations],
        "PropertyGroups": [],
        "Actions": [],
    }


def public_enumeration(name: str, members: tuple[str, ...]) -> dict:
    return {"Name": name, "LabelId": "", "IsExtensible": False,
            "Members": [{"Name": member, "Value": value, "LabelId": "", "ConfigurationEnabled": True}
                        for value, member in enumerate(members)]}


def metadata_service(request: Request) -> Response | None:
    """Answer a GET under `/Metadata`, or None when the path is not one of its resources."""
    match = _PATH.fullmatch(request.path)
    if not match:
        return None
    root = f"{request.origin}/Metadata/"
    enums = fno_enums(FNO_ENTITY_SETS.values())
    items = {
        "DataEntities": {item["Name"]: item for item in map(data_entity, FNO_ENTITY_SETS.values())},
        "PublicEntities": {item["Name"]: item for item in map(public_entity, FNO_ENTITY_SETS.values())},
        "PublicEnumerations": {name: public_enumeration(name, members) for name, members in enums.items()},
    }[match.group("set")]
    key = match.group("key")
    if key is None:
        return Response.json(200, {"@odata.context": f"{root}$metadata#{match.group('set')}", "value": list(items.values())})
    found = items.get(key.replace("''", "'"))
    if found is None:
        raise NotFound(f"No {match.group('set')} resource named '{key}' was found.")
    return Response.json(200, {"@odata.context": f"{root}$metadata#{match.group('set')}/$entity", **found})
