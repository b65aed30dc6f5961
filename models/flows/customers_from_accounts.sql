{{ config(
    flow="accounts",
    description="Sales accounts as F&O customers (spec/p2c-mappings.md section 2).",
    target={"system": "fno", "entity": "CustomersV2", "key": ["dataAreaId", "CustomerAccount"]},
    checks=[
        {"not_null": ["OrganizationName", "CustomerGroupId", "LanguageId"]},
        {"accepted_values": {"column": "PartyType", "values": ["Organization"]}},
        {"accepted_values": {"column": "IsExternallyMaintained", "values": ["Yes"]}},
    ],
) }}
-- Accounts with the statecode of var accounts_statecode (models/project.toml); contacts that are
-- active customers come from customers_from_contacts (keys CON-…, never ACC-…).
-- F&O keeps blanks as '' and 0, never null, so every field is coalesced to what F&O stores.
-- PartyNumber is not sent: F&O assigns it on insert (spec/decisions.md 4).
select
    {{ var('fno_company') }}                                   as dataAreaId,
    a.accountnumber                                            as CustomerAccount,
    coalesce(a.name, '')                                       as OrganizationName,
    'Organization'                                             as PartyType,
    -- template defaults: models/seeds/customer_defaults.csv (one row per F&O field)
    {{ value_map('customer_defaults', "'CustomerGroupId'") }}  as CustomerGroupId,
    {{ value_map('customer_defaults', "'SiteId'") }}           as SiteId,
    {{ value_map('customer_defaults', "'WarehouseId'") }}      as WarehouseId,
    {{ value_map('customer_defaults', "'LanguageId'") }}       as LanguageId,
    'Yes'                                                      as IsExternallyMaintained,
    coalesce(c.isocurrencycode, '')                            as SalesCurrencyCode,
    coalesce(a.address1_line1, '')                             as AddressStreet,
    coalesce(a.address1_city, '')                              as AddressCity,
    coalesce(a.address1_postalcode, '')                        as AddressZipCode,
    coalesce(a.address1_stateorprovince, '')                   as AddressState,
    coalesce(a.address1_county, '')                            as AddressCounty,
    {{ value_map('country', 'a.address1_country', default='US') }} as AddressCountryRegionISOCode,
    coalesce(a.address2_line1, '')                             as InvoiceAddressStreet,
    coalesce(a.address2_city, '')                              as InvoiceAddressCity,
    coalesce(a.address2_postalcode, '')                        as InvoiceAddressZipCode,
    coalesce(a.address2_stateorprovince, '')                   as InvoiceAddressState,
    coalesce(a.address2_county, '')                            as InvoiceAddressCounty,
    {{ value_map('country', 'a.address2_country', default='US') }} as InvoiceAddressCountryRegionISOCode,
    coalesce(a.telephone1, '')                                 as PrimaryContactPhone,
    coalesce(a.fax, '')                                        as PrimaryContactFax,
    coalesce(a.emailaddress1, '')                              as PrimaryContactEmail,
    coalesce(a.websiteurl, '')                                 as PrimaryContactURL,
    coalesce(a.creditlimit, 0)                                 as CreditLimit,
    coalesce(a.description, '')                                as SalesMemo,
    coalesce(a.numberofemployees, 0)                           as OrganizationNumberOfEmployees
from {{ ref('stg_sales__accounts') }} as a
left join {{ ref('stg_sales__transactioncurrencies') }} as c
    on c.transactioncurrencyid = a._transactioncurrencyid_value
