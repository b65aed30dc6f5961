"""Contacts end to end: active customers → CustomersV2, contacts of accounts → CDSContactPersons.

Routing (p2c-mappings.md 3): msdynce_isactivecustomer → an F&O customer; otherwise, with an
account as parent customer → a contact person of that account's F&O customer, whose party
number F&O assigns when the account is inserted; so contact persons follow their parent in the
next wave of the same run (decisions.md 4), and every contact not synced says why in the
staging database.
"""

import csv

from emulate.catalog import ACCOUNTS
from extract.profile import PROJECT_DIR

NOT_FO_YET = "is not a customer in F&O yet (next run)"


def seed(name: str) -> dict[str, str]:
    with (PROJECT_DIR / "models" / "seeds" / f"{name}.csv").open(encoding="utf-8") as handle:
        return {row["source_value"].strip().lower(): row["target_value"] for row in csv.DictReader(handle)}


def blank(value):
    return "" if value is None else value


def routes(run) -> dict[str, tuple[str, str]]:
    return {n: (r, why) for n, r, why in run.query(
        "select msdynce_contactnumber, route, reason from models.stg_sales__contact_routes")}


def test_contacts_routed_to_customers_and_contact_persons(flow_run, tenant):
    run = flow_run("accounts", "contacts")
    contacts = [c for c in tenant.sales.rows("contacts") if c["statecode"] == 0]
    # a Sales user deactivates the account of a contact: that account is not synced, so its contact waits
    parent = sorted(c["_parentcustomerid_value"] for c in contacts
                    if not c["msdynce_isactivecustomer"] and c["msdynce_iscompanyanaccount"])[0]
    tenant.sales.writes.edit(ACCOUNTS, parent, {"statecode": 1, "statuscode": 2})
    accounts = {a["accountid"]: a for a in tenant.sales.rows("accounts")}
    customers = {c["msdynce_contactnumber"]: c for c in contacts if c["msdynce_isactivecustomer"]}
    of_accounts = [c for c in contacts if not c["msdynce_isactivecustomer"] and c["msdynce_iscompanyanaccount"]]
    persons = {c["msdynce_contactnumber"]: c for c in of_accounts
               if accounts[c["_parentcustomerid_value"]]["statecode"] == 0}
    waiting = {c["msdynce_contactnumber"] for c in of_accounts} - set(persons)  # parent account inactive: never synced
    unrouted = {c["msdynce_contactnumber"] for c in contacts} - set(customers) - set(persons) - waiting
    assert customers and persons and waiting and unrouted  # the demo data has every route, or this proves little

    # run 1: active customers are inserted with the accounts (wave 1); the contact persons, which need the party
    # numbers F&O assigns those customers on insert, follow in wave 2 of the same run
    first = run()
    assert first["targets"]["fno.CustomersV2"]["insert"] == len(customers) + sum(
        1 for a in accounts.values() if a["statecode"] == 0)
    assert "fno.CDSContactPersons" not in first["waves"][0]["targets"]
    assert first["waves"][1]["targets"] == {"fno.CDSContactPersons": {"insert": len(persons), "update": 0, "conflict": 0, "failed": 0}}
    routed = routes(run)
    assert {n for n, (r, _) in routed.items() if r == "customer"} == set(customers)
    assert all(routed[n][0] == "contact_person" for n in persons)
    assert not any(NOT_FO_YET in why for _, why in routed.values())

    stored = {c["CustomerAccount"]: c for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf"}
    assert {n for n in stored if n.startswith("CON-")} == set(customers)
    defaults, gender, marital = seed("customer_defaults"), seed("gender"), seed("marital_status")
    for number, contact in customers.items():
        customer = stored[number]
        assert {f: customer[f] for f in ("PartyType", "PersonFirstName", "PersonLastName", "PersonProfessionalTitle",
                                         "PrimaryContactEmail", "PrimaryContactPhone", "AddressCity", "CustomerGroupId",
                                         "LanguageId", "IsExternallyMaintained", "PersonGender", "PersonMaritalStatus")} == {
            "PartyType": "Person", "PersonFirstName": blank(contact["firstname"]), "PersonLastName": blank(contact["lastname"]),
            "PersonProfessionalTitle": blank(contact["jobtitle"]), "PrimaryContactEmail": blank(contact["emailaddress1"]),
            "PrimaryContactPhone": blank(contact["telephone1"]), "AddressCity": blank(contact["address1_city"]),
            "CustomerGroupId": defaults["customergroupid"], "LanguageId": defaults["languageid"],
            "IsExternallyMaintained": "Yes",
            "PersonGender": gender.get(str(contact["gendercode"]), "Unknown"),
            "PersonMaritalStatus": marital.get(str(contact["familystatuscode"]), "None")}
        assert customer["PartyNumber"]  # assigned by F&O

    party = {c["CustomerAccount"]: c["PartyNumber"] for c in tenant.fno.rows("CustomersV2") if c["dataAreaId"] == "usmf"}
    stored_persons = {p["ContactPersonPartyNumber"]: p for p in tenant.fno.rows("CDSContactPersons")}
    assert set(stored_persons) == set(persons)  # exactly the routed ones: no customer, no waiting, no unrouted contact
    for number, contact in persons.items():
        person = stored_persons[number]
        parent = accounts[contact["_parentcustomerid_value"]]["accountnumber"]
        assert (person["dataAreaId"], person["AssociatedPartyNumber"]) == ("usmf", party[parent])
        assert {f: person[f] for f in ("FirstName", "LastName", "EmploymentProfession", "EmploymentDepartment",
                                       "PrimaryEmailAddress", "PrimaryPhoneNumber", "IsContactPersonExternallyMaintained")} == {
            "FirstName": blank(contact["firstname"]), "LastName": blank(contact["lastname"]),
            "EmploymentProfession": blank(contact["jobtitle"]), "EmploymentDepartment": blank(contact["department"]),
            "PrimaryEmailAddress": blank(contact["emailaddress1"]), "PrimaryPhoneNumber": blank(contact["telephone1"]),
            "IsContactPersonExternallyMaintained": "Yes"}

    # why the others are absent, from the staging database alone
    routed = routes(run)
    assert {n for n, (r, _) in routed.items() if r == "waiting"} == waiting
    assert all("is not synced (filtered out of stg_sales__accounts)" in routed[n][1] for n in waiting)
    assert {n for n, (r, _) in routed.items() if r == "not_synced"} == unrouted

    second = run()
    assert second["targets"] == {}
    assert run.writes(second) == 0
