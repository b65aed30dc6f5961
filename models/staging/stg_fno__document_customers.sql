{{ config(description="Customer accounts F&O has, or gets in this run from the accounts and contacts flows: the customers a Sales quote or order can name in F&O.") }}
-- A quote or order whose customer is not among them (say an inactive account, which the accounts flow does
-- not sync) would be refused by F&O; it waits, and stg_sales__quotes / stg_sales__salesorders say why.
select CustomerAccount as customer_number
from {{ source('fno', 'CustomersV2') }}
where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
union
select CustomerAccount from {{ ref('customers_from_accounts') }}
union
select CustomerAccount from {{ ref('customers_from_contacts') }}
