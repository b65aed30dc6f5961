{{ config(description="Sales units by id with the F&O unit symbol they stand for (seed units, read backwards; unmapped: the name itself, decisions.md 13).") }}
-- seeds.units maps an F&O symbol (source_value) to a Sales unit name (target_value); document lines
-- going to F&O need the other direction.
select u.uomid, u.name, coalesce(min(m.source_value), u.name) as fno_unit_symbol
from {{ source('sales', 'uoms') }} as u
left join seeds.units as m on lower(trim(m.target_value)) = lower(trim(u.name))
where not u._p2c_deleted
group by u.uomid, u.name
