{{ config(description="Sales accounts to sync: those with the configured statecode and an account number, one row per account number (latest modifiedon wins).") }}
-- Source filter (spec/decisions.md 2): var accounts_statecode in models/project.toml (0 = Active).
select *
from {{ source('sales', 'accounts') }}
where not _p2c_deleted
  and statecode = {{ var('accounts_statecode') }}
  and coalesce(trim(accountnumber), '') <> ''
qualify row_number() over (partition by accountnumber order by modifiedon desc, accountid) = 1
