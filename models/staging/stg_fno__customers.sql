{{ config(description="The company's F&O customers as extracted: account number, the party number F&O gave it, externally maintained flag.") }}
select CustomerAccount, nullif(PartyNumber, '') as PartyNumber, PartyType, IsExternallyMaintained
from {{ source('fno', 'CustomersV2') }}
where not _p2c_deleted
  and dataAreaId = {{ var('fno_company') }}
