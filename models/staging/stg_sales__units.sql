{{ config(description="Sales units with the name of their unit group, for the unit lookups of the flows (p2c never creates units).") }}
select u.uomid, u.name, u._uomscheduleid_value as uomscheduleid, s.name as unit_group
from {{ source('sales', 'uoms') }} as u
join {{ source('sales', 'uomschedules') }} as s on s.uomscheduleid = u._uomscheduleid_value
where not u._p2c_deleted
  and not s._p2c_deleted
  and s.statecode = 0
