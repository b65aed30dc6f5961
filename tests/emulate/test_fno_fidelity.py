"""F&O and shared OData fidelity over HTTPS: companies on create, case-sensitive set names,
quotes in keys, `$orderby`, PUT versus PATCH."""

import uuid

CUSTOMER = {"CustomerGroupId": "10", "OrganizationName": "Fidelity Org", "SalesCurrencyCode": "EUR"}


def _account() -> str:
    return f"FID-{uuid.uuid4().hex[:8].upper()}"


def test_create_in_another_company_lands_there(fno, tenant):
    account = _account()
    created = fno.post("CustomersV2", json={**CUSTOMER, "dataAreaId": "DEMF", "CustomerAccount": account})
    assert created.status_code == 201, created.text
    assert created.json()["dataAreaId"] == "demf"
    assert created.headers["Location"].endswith(f"/data/CustomersV2(dataAreaId='demf',CustomerAccount='{account}')")
    assert [r["dataAreaId"] for r in tenant.fno.rows("CustomersV2") if r["CustomerAccount"] == account] == ["demf"]
    select = {"$filter": f"CustomerAccount eq '{account}'", "$select": "dataAreaId"}
    assert fno.get("CustomersV2", params=select).json()["value"] == []  # the default company is usmf
    crossed = fno.get("CustomersV2", params={**select, "cross-company": "true"}).json()["value"]
    assert [row["dataAreaId"] for row in crossed] == ["demf"]
    unknown = fno.post("CustomersV2", json={**CUSTOMER, "dataAreaId": "zzzz", "CustomerAccount": _account()})
    assert unknown.status_code == 400 and "Company 'zzzz' does not exist." in unknown.json()["error"]["innererror"]["message"]


def test_entity_set_names_are_case_sensitive(fno, sales):
    assert fno.get("CustomersV2", params={"$top": "1"}).status_code == 200
    for wrong in ("customersv2", "CUSTOMERSV2"):
        assert fno.get(wrong).status_code == 404
    assert sales.get("accounts", params={"$top": "1"}).status_code == 200
    for wrong in ("Accounts", "ACCOUNTS"):
        missing = sales.get(wrong)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "0x8006088a"


def test_keys_with_a_doubled_quote(fno, sales, tenant):
    account = f"O'{_account()}"
    quoted = account.replace("'", "''")
    assert fno.post("CustomersV2", json={**CUSTOMER, "dataAreaId": "usmf", "CustomerAccount": account}).status_code == 201
    url = f"CustomersV2(dataAreaId='usmf',CustomerAccount='{quoted}')"
    assert fno.get(url).json()["CustomerAccount"] == account
    assert fno.patch(url, json={"SalesMemo": "quoted"}).status_code == 204
    assert fno.get("CustomersV2", params={"$filter": f"CustomerAccount eq '{quoted}'"}).json()["value"][0]["SalesMemo"] == "quoted"

    number = "CON-O'BRIEN-1"
    upserted = sales.patch(f"contacts(msdynce_contactnumber='{number.replace(chr(39), chr(39) * 2)}')", json={"lastname": "O'Brien"})
    assert upserted.status_code == 204
    assert [c["lastname"] for c in tenant.sales.rows("contacts") if c["msdynce_contactnumber"] == number] == ["O'Brien"]
    read = sales.get(f"contacts(msdynce_contactnumber='{number.replace(chr(39), chr(39) * 2)}')", params={"$select": "lastname"})
    assert read.status_code == 200 and read.json()["lastname"] == "O'Brien"


def test_orderby_sorts_pages_and_carries_into_the_next_link(fno, tenant):
    params = {"cross-company": "true", "$select": "dataAreaId,CustomerAccount,CreditLimit", "$orderby": "CreditLimit desc,CustomerAccount"}
    page = fno.get("CustomersV2", params=params).json()
    rows = list(page["value"])
    while "@odata.nextLink" in page:
        assert "orderby" in page["@odata.nextLink"]
        page = fno.get(page["@odata.nextLink"]).json()
        rows += page["value"]
    stored = sorted(tenant.fno.rows("CustomersV2"), key=lambda r: r["CustomerAccount"])
    expected = [r["CustomerAccount"] for r in sorted(stored, key=lambda r: -float(r["CreditLimit"]))]
    assert [r["CustomerAccount"] for r in rows] == expected
    ascending = fno.get("CustomersV2", params={"$orderby": "CustomerAccount asc", "$top": "3"}).json()["value"]
    assert [r["CustomerAccount"] for r in ascending] == sorted(r["CustomerAccount"] for r in stored if r["dataAreaId"] == "usmf")[:3]
    assert fno.get("CustomersV2", params={"$orderby": "NoSuchField"}).status_code == 400


def test_put_replaces_the_row_and_patch_merges(fno):
    account = _account()
    url = f"CustomersV2(dataAreaId='usmf',CustomerAccount='{account}')"
    assert fno.post("CustomersV2", json={**CUSTOMER, "dataAreaId": "usmf", "CustomerAccount": account, "SalesMemo": "kept",
                                         "CreditLimit": 900}).status_code == 201
    assert fno.patch(url, json={"OrganizationName": "Patched"}).status_code == 204
    merged = fno.get(url).json()
    assert (merged["OrganizationName"], merged["SalesMemo"], merged["CreditLimit"]) == ("Patched", "kept", 900)
    assert fno.put(url, json={"CustomerGroupId": "10", "OrganizationName": "Put"}).status_code == 204
    replaced = fno.get(url).json()
    assert (replaced["OrganizationName"], replaced["SalesMemo"], replaced["CreditLimit"]) == ("Put", "", 0)
    assert replaced["CustomerAccount"] == account and replaced["dataAreaId"] == "usmf"
    blank_required = fno.put(url, json={"OrganizationName": "No group"})
    assert blank_required.status_code == 400 and "must be filled in" in blank_required.json()["error"]["innererror"]["message"]
    assert fno.get(url).json()["OrganizationName"] == "Put"
