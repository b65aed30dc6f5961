{{ config(description="Sales currencies by id, for the ISO code lookups of the flows.") }}
select transactioncurrencyid, upper(isocurrencycode) as isocurrencycode
from {{ source('sales', 'transactioncurrencies') }}
where not _p2c_deleted
