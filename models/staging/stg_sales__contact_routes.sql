{{ config(description="Every staged contact with the route the P2C rules give it and why: customer, contact_person, waiting or not_synced (spec/p2c-mappings.md 3, decisions.md 4).") }}
-- Routing [DOC]: an active customer → an F&O customer (customers_from_contacts); otherwise a contact
-- whose parent customer is an account → a contact person of that account's F&O customer
-- (contact_persons_from_contacts), once that customer exists in F&O; every other contact is not synced.
-- Audit: select msdynce_contactnumber, route, reason from models.stg_sales__contact_routes where route <> 'contact_person'
with parents as (
    select a.accountid, a.accountnumber, s.accountid is not null as synced
    from {{ source('sales', 'accounts') }} as a
    left join {{ ref('stg_sales__accounts') }} as s on s.accountid = a.accountid
    where not a._p2c_deleted
),
routed as (
    select
        c.*,
        p.accountnumber                                    as parent_accountnumber,
        f.PartyNumber                                      as parent_party_number,
        case
            when coalesce(c.msdynce_isactivecustomer, false) then 'customer'
            when not coalesce(c.msdynce_iscompanyanaccount, false) then 'not_synced'
            when f.PartyNumber is not null then 'contact_person'
            else 'waiting'
        end                                                as route,
        case
            when p.accountid is null then 'its parent account is not among the extracted Sales accounts'
            when not p.synced then 'its parent account ' || p.accountnumber || ' is not synced (filtered out of stg_sales__accounts)'
            else 'its parent account ' || p.accountnumber || ' is not a customer in F&O yet (next run)'
        end                                                as waiting_for
    from {{ ref('stg_sales__contacts') }} as c
    left join parents as p on p.accountid = c._parentcustomerid_value
    left join {{ ref('stg_fno__customers') }} as f on f.CustomerAccount = p.accountnumber
)
select
    * exclude (waiting_for),
    case route
        when 'customer' then 'active customer: an F&O customer with account ' || msdynce_contactnumber
        when 'contact_person' then 'contact person of F&O customer ' || parent_accountnumber || ' (party ' || parent_party_number || ')'
        when 'not_synced' then 'not an active customer, and its parent customer is not an account'
        else 'waiting: ' || waiting_for
    end                                                    as reason
from routed
