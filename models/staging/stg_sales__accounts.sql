{{ config(description="Active Sales accounts with an account number, one row per account number (latest modifiedon wins).") }}
-- Source filter (spec/decisions.md 2): active accounts only (statecode 0).
select *
from {{ source('sales', 'accounts') }}
where not _p2c_deleted
  and statecode = 0
  and coalesce(trim(accountnumber), '') <> ''
qualify row_number() over (partition by accountnumber order by modifiedon desc, accountid) = 1
