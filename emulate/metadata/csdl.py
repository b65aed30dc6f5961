"""`$metadata` CSDL documents of both services, built from the catalog.

Dataverse: namespace `Microsoft.Dynamics.CRM` (alias `mscrm`), container `System`, entity types
named by logical name with their key, lookup `_x_value` properties and navigation properties,
alternate keys as `OData.Community.Keys.V1.AlternateKeys`, and with `?annotations=true` the
`Org.OData.Capabilities.V1.ChangeTracking` annotation on change-tracked entity sets (D7, D14).
F&O: namespace `Microsoft.Dynamics.DataEntities`, the entity types with their navigation properties,
their EnumTypes, container `Resources` with navigation property bindings.
"""

from collections.abc import Iterable
from xml.etree import ElementTree as ET

from emulate.metadata.dataverse import logical_name, lookup_target
from emulate.schema import EntitySet

EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
EDM = "http://docs.oasis-open.org/odata/ns/edm"
DATAVERSE_NAMESPACE = "Microsoft.Dynamics.CRM"
FNO_NAMESPACE = "Microsoft.Dynamics.DataEntities"
_VOCABULARIES = {
    "OData.Community.Keys.V1": "http://vocabularies.odata.org/OData.Community.Keys.V1.xml",
    "OData.Community.Display.V1": "http://vocabularies.odata.org/OData.Community.Display.V1.xml",
    "Org.OData.Capabilities.V1": "http://docs.oasis-open.org/odata/odata-vocabularies/v4.0/vocabularies/Org.OData.Capabilities.V1.xml",
}
_WHO_AM_I = ("BusinessUnitId", "UserId", "OrganizationId")


def _document(references: Iterable[str]) -> tuple[ET.Element, ET.Element]:
    """(the Edmx root, its DataServices element)."""
    ET.register_namespace("edmx", EDMX)
    root = ET.Element(f"{{{EDMX}}}Edmx", Version="4.0")
    for namespace in references:
        reference = ET.SubElement(root, f"{{{EDMX}}}Reference", Uri=_VOCABULARIES[namespace])
        ET.SubElement(reference, f"{{{EDMX}}}Include", Namespace=namespace)
    return root, ET.SubElement(root, f"{{{EDMX}}}DataServices")


def _text(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def _entity_type(schema: ET.Element, name: str, entity: EntitySet, base: str | None = None) -> ET.Element:
    element = ET.SubElement(schema, "EntityType", Name=name, **({"BaseType": base} if base else {}))
    key = ET.SubElement(element, "Key")
    for part in entity.key:
        ET.SubElement(key, "PropertyRef", Name=part)
    for column in entity.served:
        attributes = {"Name": column.name, "Type": column.edm_type}
        if not column.nullable:
            attributes["Nullable"] = "false"
        if column.max_length:
            attributes["MaxLength"] = str(column.max_length)
        if column.type in ("decimal", "money"):
            attributes["Scale"] = "Variable"
        ET.SubElement(element, "Property", attributes)
    return element


def _alternate_keys(element: ET.Element, entity: EntitySet) -> None:
    if not entity.alternate_keys:
        return
    collection = ET.SubElement(ET.SubElement(element, "Annotation", Term="OData.Community.Keys.V1.AlternateKeys"), "Collection")
    for key in entity.alternate_keys:
        record = ET.SubElement(collection, "Record", Type="OData.Community.Keys.V1.AlternateKey")
        parts = ET.SubElement(ET.SubElement(record, "PropertyValue", Property="Key"), "Collection")
        for name in key:
            ref = ET.SubElement(parts, "Record", Type="OData.Community.Keys.V1.PropertyRef")
            ET.SubElement(ref, "PropertyValue", Property="Alias", String=name)
            ET.SubElement(ref, "PropertyValue", Property="Name", PropertyPath=name)


def dataverse_csdl(entity_sets: Iterable[EntitySet], annotations: bool) -> bytes:
    entity_sets = list(entity_sets)
    references = ["OData.Community.Keys.V1", "OData.Community.Display.V1"] + (["Org.OData.Capabilities.V1"] if annotations else [])
    root, services = _document(references)
    schema = ET.SubElement(services, "Schema", Namespace=DATAVERSE_NAMESPACE, Alias="mscrm", xmlns=EDM)
    ET.SubElement(schema, "EntityType", Name="crmbaseentity", Abstract="true")
    for entity in entity_sets:
        element = _entity_type(schema, logical_name(entity), entity, base="mscrm.crmbaseentity")
        for navigation, column in entity.lookups.items():
            target = lookup_target(column)
            if target is None:
                continue
            nav = ET.SubElement(element, "NavigationProperty", Name=navigation, Type=f"mscrm.{logical_name(target)}")
            ET.SubElement(nav, "ReferentialConstraint", Property=column.name, ReferencedProperty=target.key[0])
        _alternate_keys(element, entity)
    response = ET.SubElement(schema, "ComplexType", Name="WhoAmIResponse")
    for name in _WHO_AM_I:
        ET.SubElement(response, "Property", Name=name, Type="Edm.Guid", Nullable="false")
    function = ET.SubElement(schema, "Function", Name="WhoAmI")
    ET.SubElement(function, "ReturnType", Type="mscrm.WhoAmIResponse", Nullable="false")
    container = ET.SubElement(schema, "EntityContainer", Name="System")
    for entity in entity_sets:
        entity_set = ET.SubElement(container, "EntitySet", Name=entity.name, EntityType=entity.type_name)
        for navigation, column in entity.lookups.items():
            if (target := lookup_target(column)) is not None:
                ET.SubElement(entity_set, "NavigationPropertyBinding", Path=navigation, Target=target.name)
        if annotations and entity.change_tracking:
            record = ET.SubElement(ET.SubElement(entity_set, "Annotation", Term="Org.OData.Capabilities.V1.ChangeTracking"), "Record")
            ET.SubElement(record, "PropertyValue", Property="Supported", Bool="true")
    ET.SubElement(container, "FunctionImport", Name="WhoAmI", Function=f"{DATAVERSE_NAMESPACE}.WhoAmI", IncludeInServiceDocument="false")
    return _text(root)


def fno_enums(entity_sets: Iterable[EntitySet]) -> dict[str, tuple[str, ...]]:
    """Every enum type the F&O entity sets use, by name."""
    enums: dict[str, tuple[str, ...]] = {}
    for entity in entity_sets:
        for column in entity.served:
            if column.type == "enum":
                enums[column.enum] = entity.enums[column.enum]
    return enums


def _fno_navigations(element: ET.Element, entity: EntitySet, by_name: dict[str, EntitySet]) -> None:
    """`NavigationProperty` elements (with Partner) as F&O declares them; single-valued ones carry their referential constraints."""
    for navigation in entity.navigations:
        target = by_name[navigation.target].type_name
        attributes = {"Name": navigation.name, "Type": target if navigation.single else f"Collection({target})"}
        if navigation.partner:
            attributes["Partner"] = navigation.partner
        nav_element = ET.SubElement(element, "NavigationProperty", attributes)
        if navigation.single:
            for ours, theirs in navigation.on:
                ET.SubElement(nav_element, "ReferentialConstraint", Property=ours, ReferencedProperty=theirs)


def fno_csdl(entity_sets: Iterable[EntitySet]) -> bytes:
    entity_sets = list(entity_sets)
    by_name = {entity.name: entity for entity in entity_sets}
    root, services = _document([])
    schema = ET.SubElement(services, "Schema", Namespace=FNO_NAMESPACE, xmlns=EDM)
    for entity in entity_sets:
        _fno_navigations(_entity_type(schema, entity.type_name.rsplit(".", 1)[1], entity), entity, by_name)
    for name, members in sorted(fno_enums(entity_sets).items()):
        enum = ET.SubElement(schema, "EnumType", Name=name)
        for value, member in enumerate(members):
            ET.SubElement(enum, "Member", Name=member, Value=str(value))
    container = ET.SubElement(schema, "EntityContainer", Name="Resources")
    for entity in entity_sets:
        entity_set = ET.SubElement(container, "EntitySet", Name=entity.name, EntityType=entity.type_name)
        for navigation in entity.navigations:
            ET.SubElement(entity_set, "NavigationPropertyBinding", Path=navigation.name, Target=navigation.target)
    return _text(root)
