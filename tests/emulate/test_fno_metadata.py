"""F&O metadata and read extras over HTTPS: /data/$metadata, $count, /$count, $expand, the /Metadata service (5.2)."""

import ssl
from xml.etree import ElementTree as ET

import httpx
import pytest

from emulate.catalog import FNO_ENTITY_SETS

EDM = "{http://docs.oasis-open.org/odata/ns/edm}"


@pytest.fixture(scope="module")
def metadata(fno, tenant):
    """A client for the `/Metadata` service with the same token."""
    with httpx.Client(base_url=f"{tenant.fno_url}/Metadata/", verify=ssl.create_default_context(cafile=str(tenant.ca_file)),
                      headers=dict(fno.headers)) as client:
        yield client


def test_metadata_csdl_with_enum_types(fno):
    response = fno.get("$metadata")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/xml")
    schema = ET.fromstring(response.content).find(f".//{EDM}Schema")
    assert schema.get("Namespace") == "Microsoft.Dynamics.DataEntities"
    customer = schema.find(f"{EDM}EntityType[@Name='CustomerV2']")
    assert [r.get("Name") for r in customer.findall(f"{EDM}Key/{EDM}PropertyRef")] == ["dataAreaId", "CustomerAccount"]
    properties = {p.get("Name"): p.get("Type") for p in customer.findall(f"{EDM}Property")}
    assert properties["IsExternallyMaintained"] == "Microsoft.Dynamics.DataEntities.NoYes"
    assert "RecId" not in properties
    no_yes = schema.find(f"{EDM}EnumType[@Name='NoYes']")
    assert [(m.get("Name"), m.get("Value")) for m in no_yes.findall(f"{EDM}Member")] == [("No", "0"), ("Yes", "1")]
    container = schema.find(f"{EDM}EntityContainer")
    assert {s.get("Name") for s in container.findall(f"{EDM}EntitySet")} == set(FNO_ENTITY_SETS)


def test_count_true_and_count_segment(fno, tenant):
    usmf = [row for row in tenant.fno.rows("CustomersV2") if row["dataAreaId"] == "usmf"]
    body = fno.get("CustomersV2", params={"$count": "true", "$select": "CustomerAccount"}).json()
    assert body["@odata.count"] == len(usmf)
    assert len(body["value"]) <= len(usmf)
    counted = fno.get("CustomersV2/$count")
    assert counted.status_code == 200 and counted.headers["Content-Type"].startswith("text/plain")
    assert counted.text == str(len(usmf))
    everywhere = fno.get("CustomersV2/$count", params={"cross-company": "true"})
    assert everywhere.text == str(len(tenant.fno.rows("CustomersV2")))


def test_expand_of_a_missing_navigation_is_refused(fno):
    response = fno.get("CustomersV2", params={"$expand": "NoSuchNavigation"})
    assert response.status_code == 400
    assert "NoSuchNavigation" in response.json()["error"]["innererror"]["message"]


def test_data_entities(metadata):
    response = metadata.get("DataEntities")
    assert response.status_code == 200
    items = {item["PublicCollectionName"]: item for item in response.json()["value"]}
    assert set(items) == set(FNO_ENTITY_SETS)
    customers = items["CustomersV2"]
    assert customers["PublicEntityName"] == "CustomerV2"
    assert customers["Name"] == FNO_ENTITY_SETS["CustomersV2"].entity_class
    assert customers["DataServiceEnabled"] is True and customers["IsReadOnly"] is False
    assert {"DataManagementEnabled", "EntityCategory", "LabelId"} <= set(customers)
    one = metadata.get(f"DataEntities('{customers['Name']}')")
    assert one.status_code == 200 and one.json()["PublicCollectionName"] == "CustomersV2"


def test_public_entities(metadata):
    names = {item["Name"] for item in metadata.get("PublicEntities").json()["value"]}
    assert "CustomerV2" in names
    body = metadata.get("PublicEntities('CustomerV2')").json()
    assert body["EntitySetName"] == "CustomersV2"
    properties = {p["Name"]: p for p in body["Properties"]}
    assert properties["CustomerAccount"]["IsKey"] is True and properties["CustomerAccount"]["IsMandatory"] is True
    assert properties["CustomerGroupId"]["IsMandatory"] is True and properties["CustomerGroupId"]["IsKey"] is False
    assert properties["IsExternallyMaintained"]["DataType"] == "Enum"
    assert properties["IsExternallyMaintained"]["TypeName"] == "NoYes"
    assert {"AllowEdit", "AllowEditOnCreate", "TypeName"} <= set(properties["OrganizationName"])
    assert body["NavigationProperties"] == []


@pytest.mark.parametrize("path", ["PublicEntities('NoSuchEntity')", "DataEntities('NoSuchEntity')",
                                  "PublicEnumerations('NoSuchEnum')"])
def test_unknown_metadata_is_404(metadata, path):
    response = metadata.get(path)
    assert response.status_code == 404
    assert response.json()["error"]["innererror"]["message"]


def test_public_enumeration(metadata):
    body = metadata.get("PublicEnumerations('NoYes')").json()
    assert body["Name"] == "NoYes"
    assert [(m["Name"], m["Value"]) for m in body["Members"]] == [("No", 0), ("Yes", 1)]


def test_metadata_service_needs_a_token(tenant, http):
    response = http.get(f"{tenant.fno_url}/Metadata/DataEntities")
    assert response.status_code == 401
