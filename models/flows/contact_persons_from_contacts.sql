{{ config(
    flow="contacts",
    description="Sales contacts of accounts as F&O contact persons (spec/p2c-mappings.md 3a, task Contacts).",
    target={"system": "fno", "entity": "CDSContactPersons",
            "key": ["dataAreaId", "ContactPersonPartyNumber", "AssociatedPartyNumber"]},
    checks=[
        {"not_null": ["LastName"]},
        {"relationships": {"column": "AssociatedPartyNumber", "to": "stg_fno__customers", "field": "PartyNumber"}},
        {"accepted_values": {"column": "IsContactPersonExternallyMaintained", "values": ["Yes"]}},
    ],
) }}
-- Routed in stg_sales__contact_routes: not an active customer, parent customer an account, and that
-- account's customer already in F&O. AssociatedPartyNumber is the party number F&O gave the parent
-- customer (decisions.md 4); contacts still waiting for it are listed there with route 'waiting'.
-- ContactPersonPartyNumber is the contact number (p2c-mappings.md 3a, INF from MIG).
-- accountrolecode → DecisionMakingRoleCode is not mapped: its values must exist in F&O (O-CON).
select
    {{ var('fno_company') }}                                        as dataAreaId,
    c.msdynce_contactnumber                                         as ContactPersonPartyNumber,
    c.parent_party_number                                           as AssociatedPartyNumber,
    coalesce(c.firstname, '')                                       as FirstName,
    coalesce(c.middlename, '')                                      as MiddleName,
    coalesce(c.lastname, '')                                        as LastName,
    coalesce(c.emailaddress1, '')                                   as PrimaryEmailAddress,
    coalesce(c.telephone1, '')                                      as PrimaryPhoneNumber,
    coalesce(c.fax, '')                                             as PrimaryFaxNumber,
    coalesce(c.websiteurl, '')                                      as PrimaryURL,
    coalesce(c.address1_line1, '')                                  as PrimaryAddressStreet,
    coalesce(c.address1_city, '')                                   as PrimaryAddressCity,
    coalesce(c.address1_postalcode, '')                             as PrimaryAddressZipCode,
    coalesce(c.address1_stateorprovince, '')                        as PrimaryAddressStateId,
    coalesce(c.address1_county, '')                                 as PrimaryAddressCountyId,
    {{ value_map('country', 'c.address1_country', default='US') }}  as PrimaryAddressCountryRegionISOCode,
    coalesce(c.jobtitle, '')                                        as EmploymentProfession,
    coalesce(c.department, '')                                      as EmploymentDepartment,
    coalesce(c.spousesname, '')                                     as SpouseName,
    coalesce(c.governmentid, '')                                    as GovernmentIdentificationNumber,
    coalesce(c.description, '')                                     as Notes,
    -- option → enum value maps (models/seeds/gender.csv, marital_status.csv); no value → F&O's blank member
    case when c.gendercode is null then 'Unknown'
         else {{ value_map('gender', 'cast(c.gendercode as varchar)') }} end        as Gender,
    case when c.familystatuscode is null then 'None'
         else {{ value_map('marital_status', 'cast(c.familystatuscode as varchar)') }} end as MaritalStatus,
    'Yes'                                                           as IsContactPersonExternallyMaintained
from {{ ref('stg_sales__contact_routes') }} as c
where c.route = 'contact_person'
