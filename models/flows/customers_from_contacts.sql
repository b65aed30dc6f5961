{{ config(
    flow="contacts",
    description="Sales contacts that are active customers as F&O person customers (spec/p2c-mappings.md 3b, task ContactToCustomer).",
    target={"system": "fno", "entity": "CustomersV2", "key": ["dataAreaId", "CustomerAccount"]},
    checks=[
        {"not_null": ["PersonLastName", "CustomerGroupId", "LanguageId"]},
        {"accepted_values": {"column": "PartyType", "values": ["Person"]}},
        {"accepted_values": {"column": "IsExternallyMaintained", "values": ["Yes"]}},
    ],
) }}
-- Routed in stg_sales__contact_routes (route 'customer': msdynce_isactivecustomer). The customer account
-- is the contact number (CON-…), so keys never overlap customers_from_accounts (ACC-…).
-- PartyNumber is not sent: F&O assigns it on insert (decisions.md 4). SiteId / WarehouseId have no
-- template value for contact customers (p2c-mappings.md 3b), so p2c leaves them to F&O.
-- F&O keeps blanks as '' and 0, never null, so every field is coalesced to what F&O stores.
select
    {{ var('fno_company') }}                                        as dataAreaId,
    c.msdynce_contactnumber                                         as CustomerAccount,
    'Person'                                                        as PartyType,
    coalesce(c.firstname, '')                                       as PersonFirstName,
    coalesce(c.middlename, '')                                      as PersonMiddleName,
    coalesce(c.lastname, '')                                        as PersonLastName,
    coalesce(c.jobtitle, '')                                        as PersonProfessionalTitle,
    case when c.gendercode is null then 'Unknown'
         else {{ value_map('gender', 'cast(c.gendercode as varchar)') }} end        as PersonGender,
    case when c.familystatuscode is null then 'None'
         else {{ value_map('marital_status', 'cast(c.familystatuscode as varchar)') }} end as PersonMaritalStatus,
    -- template defaults: models/seeds/customer_defaults.csv
    {{ value_map('customer_defaults', "'CustomerGroupId'") }}       as CustomerGroupId,
    {{ value_map('customer_defaults', "'LanguageId'") }}            as LanguageId,
    'Yes'                                                           as IsExternallyMaintained,
    coalesce(cur.isocurrencycode, '')                               as SalesCurrencyCode,
    coalesce(c.address1_line1, '')                                  as AddressStreet,
    coalesce(c.address1_city, '')                                   as AddressCity,
    coalesce(c.address1_postalcode, '')                             as AddressZipCode,
    coalesce(c.address1_stateorprovince, '')                        as AddressState,
    coalesce(c.address1_county, '')                                 as AddressCounty,
    {{ value_map('country', 'c.address1_country', default='US') }}  as AddressCountryRegionISOCode,
    coalesce(c.address2_line1, '')                                  as InvoiceAddressStreet,
    coalesce(c.address2_city, '')                                   as InvoiceAddressCity,
    coalesce(c.address2_postalcode, '')                             as InvoiceAddressZipCode,
    coalesce(c.address2_stateorprovince, '')                        as InvoiceAddressState,
    coalesce(c.address2_county, '')                                 as InvoiceAddressCounty,
    {{ value_map('country', 'c.address2_country', default='US') }}  as InvoiceAddressCountryRegionISOCode,
    coalesce(c.emailaddress1, '')                                   as PrimaryContactEmail,
    coalesce(c.telephone1, '')                                      as PrimaryContactPhone,
    coalesce(c.fax, '')                                             as PrimaryContactFax,
    coalesce(c.websiteurl, '')                                      as PrimaryContactURL,
    coalesce(c.description, '')                                     as SalesMemo
from {{ ref('stg_sales__contact_routes') }} as c
left join {{ ref('stg_sales__transactioncurrencies') }} as cur
    on cur.transactioncurrencyid = c._transactioncurrencyid_value
where c.route = 'customer'
