{{ config(description="Customers a Sales document can name: accounts by account number and contacts by contact number, with the entity set each id belongs to.") }}
-- Quotes, orders and invoices name an account or a contact (customerid); F&O names the customer account,
-- which is the Sales account number or contact number (spec/p2c-mappings.md 5, 6, 7).
select accountid as customerid, 'accounts' as customer_entity, accountnumber as customer_number
from {{ source('sales', 'accounts') }}
where not _p2c_deleted and coalesce(trim(accountnumber), '') <> ''
union all
select contactid, 'contacts', msdynce_contactnumber
from {{ source('sales', 'contacts') }}
where not _p2c_deleted and coalesce(trim(msdynce_contactnumber), '') <> ''
