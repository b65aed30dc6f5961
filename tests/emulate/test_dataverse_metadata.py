"""Dataverse metadata over HTTPS: service document, $metadata CSDL, EntityDefinitions, WhoAmI (protocols.md 1.9, 5.1)."""

import uuid
from xml.etree import ElementTree as ET

import pytest

from emulate.catalog import SALES_ENTITY_SETS

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


def test_service_document_lists_every_entity_set(sales, tenant):
    response = sales.get("")
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata"
    assert {item["name"] for item in body["value"]} == set(SALES_ENTITY_SETS)
    assert all(item["kind"] == "EntitySet" and item["url"] == item["name"] for item in body["value"])


def _schema(response) -> ET.Element:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    schema = root.find(f".//{EDM}Schema")
    assert schema.get("Namespace") == "Microsoft.Dynamics.CRM" and schema.get("Alias") == "mscrm"
    return schema


def test_metadata_has_entity_types_keys_alternate_keys_and_navigation(sales):
    schema = _schema(sales.get("$metadata"))
    account = schema.find(f"{EDM}EntityType[@Name='account']")
    assert [ref.get("Name") for ref in account.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["accountid"]
    properties = {p.get("Name"): p.get("Type") for p in account.findall(f"{EDM}Property")}
    assert properties["accountid"] == "Edm.Guid" and properties["name"] == "Edm.String"
    assert properties["_transactioncurrencyid_value"] == "Edm.Guid"
    navigation = account.find(f"{EDM}NavigationProperty[@Name='transactioncurrencyid']")
    assert navigation.get("Type") == "mscrm.transactioncurrency"
    constraint = navigation.find(f"{EDM}ReferentialConstraint")
    assert (constraint.get("Property"), constraint.get("ReferencedProperty")) == ("_transactioncurrencyid_value", "transactioncurrencyid")
    assert account.find(f"{EDM}Annotation[@Term='OData.Community.Keys.V1.AlternateKeys']") is None  # removed by P2C 15.0.0.2
    contact = schema.find(f"{EDM}EntityType[@Name='contact']")
    alternate = contact.find(f"{EDM}Annotation[@Term='OData.Community.Keys.V1.AlternateKeys']")
    assert [v.get("PropertyPath") for v in alternate.iter(f"{EDM}PropertyValue") if v.get("Property") == "Name"] == ["msdynce_contactnumber"]
    container = schema.find(f"{EDM}EntityContainer")
    assert container.find(f"{EDM}EntitySet[@Name='accounts']").get("EntityType") == "Microsoft.Dynamics.CRM.account"
    assert schema.find(f"{EDM}Function[@Name='WhoAmI']") is not None
    assert {t.get("Name") for t in schema.findall(f"{EDM}EntityType")} >= {e.type_name.rsplit('.', 1)[1] for e in SALES_ENTITY_SETS.values()}


def test_change_tracking_annotation_only_with_annotations_true(sales):
    term = f"{EDM}Annotation[@Term='Org.OData.Capabilities.V1.ChangeTracking']"
    plain = _schema(sales.get("$metadata")).find(f"{EDM}EntityContainer")
    assert plain.find(f"{EDM}EntitySet[@Name='accounts']/{term}") is None
    annotated = _schema(sales.get("$metadata", params={"annotations": "true"})).find(f"{EDM}EntityContainer")
    supported = annotated.find(f"{EDM}EntitySet[@Name='accounts']/{term}/{EDM}Record/{EDM}PropertyValue")
    assert (supported.get("Property"), supported.get("Bool")) == ("Supported", "true")
    untracked = [e.name for e in SALES_ENTITY_SETS.values() if not e.change_tracking]
    for name in untracked:
        assert annotated.find(f"{EDM}EntitySet[@Name='{name}']/{term}") is None


def test_entity_definitions_by_filter_as_the_python_sdk_asks(sales, tenant):
    response = sales.get(f"{tenant.sales_url}/api/data/v9.2/EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute"
                         "&$filter=LogicalName+eq+'account'")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["@odata.context"].endswith("$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute)")
    [item] = body["value"]
    assert set(item) == {"LogicalName", "EntitySetName", "PrimaryIdAttribute", "MetadataId"}
    assert (item["LogicalName"], item["EntitySetName"], item["PrimaryIdAttribute"]) == ("account", "accounts", "accountid")
    uuid.UUID(item["MetadataId"])
    assert "@odata.nextLink" not in body


def test_entity_definitions_filter_on_change_tracking(sales):
    body = sales.get("EntityDefinitions", params={"$select": "LogicalName,ChangeTrackingEnabled",
                                                  "$filter": "ChangeTrackingEnabled eq true"}).json()
    expected = {e.type_name.rsplit(".", 1)[1] for e in SALES_ENTITY_SETS.values() if e.change_tracking}
    assert {item["LogicalName"] for item in body["value"]} == expected
    assert "account" in expected


def test_entity_definition_by_key_with_change_tracking_fields(sales, tenant):
    response = sales.get("EntityDefinitions(LogicalName='account')", params={
        "$select": "LogicalName,EntitySetName,PrimaryIdAttribute,ChangeTrackingEnabled,CanChangeTrackingBeEnabled"})
    assert response.status_code == 200
    body = response.json()
    assert body["@odata.context"].endswith("/$entity")
    assert body["ChangeTrackingEnabled"] is True
    assert body["CanChangeTrackingBeEnabled"]["Value"] is True
    by_id = sales.get(f"EntityDefinitions({body['MetadataId']})", params={"$select": "LogicalName"})
    assert by_id.json()["LogicalName"] == "account"


def test_entity_definition_expands_attributes(sales):
    body = sales.get("EntityDefinitions(LogicalName='account')",
                     params={"$select": "LogicalName", "$expand": "Attributes($select=LogicalName,AttributeType)"}).json()
    types = {a["LogicalName"]: a["AttributeType"] for a in body["Attributes"]}
    assert types["accountid"] == "Uniqueidentifier"
    assert types["name"] == "String"
    assert types["transactioncurrencyid"] == "Lookup"
    assert types["statecode"] == "State" and types["statuscode"] == "Status"
    assert types["customertypecode"] == "Picklist"
    assert types["createdon"] == "DateTime"
    assert all(a["@odata.type"].startswith("#Microsoft.Dynamics.CRM.") for a in body["Attributes"])


def test_picklist_cast_with_option_sets(sales):
    response = sales.get("EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
                         params={"$select": "LogicalName", "$expand": "OptionSet($select=Options)"})
    assert response.status_code == 200, response.text
    items = {item["LogicalName"]: item for item in response.json()["value"]}
    assert "customertypecode" in items and "statecode" not in items and "name" not in items
    options = items["customertypecode"]["OptionSet"]["Options"]
    column = SALES_ENTITY_SETS["accounts"].column("customertypecode")
    assert [(o["Value"], o["Label"]["LocalizedLabels"][0]["Label"]) for o in options] == list(column.options)
    assert options[0]["Label"]["UserLocalizedLabel"]["LanguageCode"] == 1033


def test_datetime_cast(sales):
    items = sales.get("EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata",
                      params={"$select": "LogicalName,Format,DateTimeBehavior"}).json()["value"]
    found = {item["LogicalName"]: item for item in items}
    assert {"createdon", "modifiedon"} <= set(found)
    assert found["createdon"]["Format"] == "DateAndTime"
    assert found["createdon"]["DateTimeBehavior"]["Value"] == "UserLocal"


@pytest.mark.parametrize("path", ["EntityDefinitions(LogicalName='nosuchtable')",
                                  "EntityDefinitions(LogicalName='nosuchtable')/Attributes"])
def test_unknown_entity_definition_is_404(sales, path):
    response = sales.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "0x80040217"


@pytest.mark.parametrize("path", ["WhoAmI", "WhoAmI()"])
def test_who_am_i_with_dop_hint(sales, tenant, path):
    response = sales.get(path)
    assert response.status_code == 200
    assert int(response.headers["x-ms-dop-hint"]) >= 1
    body = response.json()
    assert body["@odata.context"] == f"{tenant.sales_url}/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"
    assert len({uuid.UUID(body[k]) for k in ("BusinessUnitId", "UserId", "OrganizationId")}) == 3
    assert sales.get("WhoAmI").json() == body
