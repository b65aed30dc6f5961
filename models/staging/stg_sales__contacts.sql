{{ config(description="Sales contacts to route: those with the configured statecode and a contact number, one row per contact number (latest modifiedon wins).") }}
-- Source filter (spec/decisions.md 2): var contacts_statecode in models/project.toml (0 = Active).
select *
from {{ source('sales', 'contacts') }}
where not _p2c_deleted
  and statecode = {{ var('contacts_statecode') }}
  and coalesce(trim(msdynce_contactnumber), '') <> ''
qualify row_number() over (partition by msdynce_contactnumber order by modifiedon desc, contactid) = 1
