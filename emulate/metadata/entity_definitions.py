"""Dataverse `EntityDefinitions`: tables and their attributes, as the metadata Web API serves them (D14).

Supported: the collection with `$filter` (`eq`/`ne` joined by `and`/`or`, managed properties as
`Prop/Value`), `$select`, `$expand=Attributes(...)`/`Keys`; one table by `(LogicalName='x')` or by
MetadataId; `/Attributes` with an optional type cast (`Microsoft.Dynamics.CRM.PicklistAttributeMetadata`)
or a key, with `$select`, `$filter` and `$expand=OptionSet`. Metadata is never paged.
"""

import re

from emulate.catalog import SALES_ENTITY_SETS
from emulate.errors import BadRequest, NotFound
from emulate.metadata.dataverse import (attribute, label, logical_name, metadata_id, metadata_type, option_set,
                                        primary_name)
from emulate.odata.keys import parse_resource
from emulate.odata.query import split_top_level
from emulate.schema import EntitySet
from emulate.server import Request, Response

_PATH = re.compile(r"EntityDefinitions(?P<key>\([^)]*\))?(?:/Attributes(?P<attr>\([^)]*\))?(?:/Microsoft\.Dynamics\.CRM\.(?P<cast>\w+))?)?")
_CLAUSE = re.compile(r"\s*(?P<path>[A-Za-z]\w*(?:/Value)?)\s+(?P<op>eq|ne)\s+(?P<value>'(?:[^']|'')*'|true|false|-?\d+|[\w.]+'[^']*')\s*")
_ERROR = "0x80060888"


def entity_definition(entity: EntitySet) -> dict:
    name = logical_name(entity)
    return {
        "MetadataId": metadata_id(name),
        "LogicalName": name,
        "SchemaName": name[:1].upper() + name[1:],
        "EntitySetName": entity.name,
        "LogicalCollectionName": entity.name,
        "PrimaryIdAttribute": entity.key[0],
        "PrimaryNameAttribute": primary_name(entity),
        "IsCustomEntity": False,
        "IsActivity": False,
        "IsIntersect": False,
        "OwnershipType": "UserOwned" if entity.column("_ownerid_value") else "OrganizationOwned",
        "ChangeTrackingEnabled": entity.change_tracking,
        "CanChangeTrackingBeEnabled": {"Value": True, "CanBeChanged": not entity.change_tracking,
                                       "ManagedPropertyLogicalName": "canchangetrackingbeenabled"},
        "DisplayName": label(name, name),
        "DisplayCollectionName": label(entity.name, name, "collection"),
    }


def _keys(entity: EntitySet) -> list[dict]:
    name = logical_name(entity)
    return [{"MetadataId": metadata_id(name, "key", *key), "LogicalName": "_".join(key), "SchemaName": "_".join(key),
             "EntityLogicalName": name, "KeyAttributes": list(key), "EntityKeyIndexStatus": "Active"}
            for key in entity.alternate_keys]


def _attributes(entity: EntitySet, cast: str | None) -> list[tuple[dict, dict | None]]:
    """(AttributeMetadata, its OptionSet or None) of every served column, of the cast type if one is given."""
    items = []
    for column in entity.served:
        if cast and metadata_type(entity, column) != cast:
            continue
        items.append((attribute(entity, column), option_set(entity, column) if column.options else None))
    return items


def _matches(item: dict, text: str | None) -> bool:
    """A small `$filter` over metadata properties: `A eq 'x' and B/Value eq true or ...`."""
    if not text:
        return True
    return any(all(_clause(item, clause) for clause in re.split(r"\s+and\s+", alternative))
               for alternative in re.split(r"\s+or\s+", text.strip()))


def _clause(item: dict, text: str) -> bool:
    match = _CLAUSE.fullmatch(text)
    if not match:
        raise BadRequest(f"The $filter expression '{text}' is not supported on metadata.", code=_ERROR)
    name, _, sub = match.group("path").partition("/")
    if name not in item:
        raise BadRequest(f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", code=_ERROR)
    actual = item[name][sub] if sub else item[name]
    raw = match.group("value")
    if raw in ("true", "false"):
        expected: object = raw == "true"
    elif raw.startswith("'"):
        expected = raw[1:-1].replace("''", "'")
    elif "'" in raw:  # an enum member: Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'
        expected = raw.split("'")[1]
    else:
        expected = int(raw)
    if isinstance(actual, str) and isinstance(expected, str):
        equal = actual.lower() == expected.lower()
    else:
        equal = actual == expected
    return equal if match.group("op") == "eq" else not equal


def _options(text: str | None) -> dict[str, str]:
    """`$select=a;$expand=b` (nested options) -> {"$select": "a", "$expand": "b"}."""
    return {name.strip(): value for name, _, value in (part.partition("=") for part in split_top_level(text or "", ";"))}


def _selected(item: dict, select: str | None, always: tuple[str, ...] = ("MetadataId",)) -> dict:
    if not select:
        return dict(item)
    names = [name.strip() for name in select.split(",") if name.strip()]
    for name in names:
        if name not in item:
            raise BadRequest(f"Could not find a property named '{name}' on type '{item.get('@odata.type', 'Microsoft.Dynamics.CRM.EntityMetadata').lstrip('#')}'.", code=_ERROR)
    keep = [*(k for k in ("@odata.type",) if k in item), *names, *(n for n in always if n not in names)]
    return {name: item[name] for name in keep}


def _attribute_items(entity: EntitySet, cast: str | None, options: dict[str, str], only: str | None = None) -> list[dict]:
    expand = {name: _options(inner) for name, inner in _expansions(options.get("$expand"))}
    unknown = set(expand) - {"OptionSet"}
    if unknown:
        raise BadRequest(f"Could not find a property named '{unknown.pop()}' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'.", code=_ERROR)
    items = []
    for item, options_set in _attributes(entity, cast):
        if not _matches(item, options.get("$filter")) or only not in (None, item["LogicalName"]):
            continue
        served = _selected(item, options.get("$select"))
        if "OptionSet" in expand:
            served["OptionSet"] = _selected(options_set, expand["OptionSet"].get("$select")) if options_set else None
        items.append(served)
    return items


def _expansions(text: str | None) -> list[tuple[str, str]]:
    result = []
    for item in split_top_level(text or "", ","):
        match = re.fullmatch(r"(\w+)\s*(?:\((.*)\))?", item, re.DOTALL)
        if not match:
            raise BadRequest(f"The $expand expression '{item}' is not valid.", code=_ERROR)
        result.append((match.group(1), match.group(2) or ""))
    return result


def _entity_item(entity: EntitySet, options: dict[str, str]) -> dict:
    item = _selected(entity_definition(entity), options.get("$select"))
    for name, inner in _expansions(options.get("$expand")):
        if name == "Attributes":
            item["Attributes"] = _attribute_items(entity, None, _options(inner))
        elif name == "Keys":
            item["Keys"] = [_selected(key, _options(inner).get("$select")) for key in _keys(entity)]
        else:
            raise BadRequest(f"Could not find a property named '{name}' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.", code=_ERROR)
    return item


def _find(key_text: str) -> EntitySet:
    resource = parse_resource(f"EntityDefinitions{key_text}")
    key = resource.key if resource else None
    for entity in SALES_ENTITY_SETS.values():
        if key and (key.get("LogicalName") and key["LogicalName"].value == logical_name(entity)
                    or key.get(None) and key[None].value.lower() == metadata_id(logical_name(entity))):
            return entity
    shown = next(iter(key.values())).value if key else key_text
    raise NotFound(f"Could not find entity with name or id '{shown}'.", code="0x80040217")


def _context(api_root: str, path: str, select: str | None) -> str:
    return f"{api_root}$metadata#{path}" + (f"({select})" if select else "")


def entity_definitions(segment: str, request: Request, api_root: str) -> Response | None:
    """Answer a GET on `EntityDefinitions...`, or None when `segment` is not one."""
    match = _PATH.fullmatch(segment)
    if not match:
        return None
    options = {name: value for name, value in request.query if name.startswith("$")}
    for name in options:
        if name not in ("$select", "$filter", "$expand"):
            raise BadRequest(f"The query parameter {name} is not supported", code=_ERROR)
    if match.group("key") is None:
        if match.group("attr") is not None or match.group("cast"):
            return None
        items = [_entity_item(e, options) for e in SALES_ENTITY_SETS.values() if _matches(entity_definition(e), options.get("$filter"))]
        return Response.json(200, {"@odata.context": _context(api_root, "EntityDefinitions", options.get("$select")), "value": items})
    entity = _find(match.group("key"))
    name = logical_name(entity)
    if "/Attributes" not in segment:
        body = {"@odata.context": _context(api_root, "EntityDefinitions", options.get("$select")) + "/$entity", **_entity_item(entity, options)}
        return Response.json(200, body)
    cast = match.group("cast")
    path = f"EntityDefinitions('{name}')/Attributes" + (f"/Microsoft.Dynamics.CRM.{cast}" if cast else "")
    if match.group("attr"):
        wanted = parse_resource(f"Attributes{match.group('attr')}")
        wanted_name = wanted.key["LogicalName"].value if wanted and wanted.key and "LogicalName" in wanted.key else ""
        found = _attribute_items(entity, cast, options, only=wanted_name)
        if not found:
            raise NotFound(f"Could not find attribute '{wanted_name}' on entity '{name}'.", code="0x80040217")
        return Response.json(200, {"@odata.context": _context(api_root, path, options.get("$select")) + "/$entity", **found[0]})
    items = _attribute_items(entity, cast, options)
    return Response.json(200, {"@odata.context": _context(api_root, path, options.get("$select")), "value": items})
