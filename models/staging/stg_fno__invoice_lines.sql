{{ config(description="F&O invoice lines of the invoices in stg_fno__invoices, with Sales product and unit, and the reason a line does not come to Sales.") }}
with products as (
    select productid, productnumber
    from {{ source('sales', 'products') }}
    where not _p2c_deleted
    qualify row_number() over (partition by productnumber order by modifiedon desc, productid) = 1
),
sellable as (
    select ProductNumber
    from {{ source('fno', 'SellableReleasedProducts') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
),
units as (
    select uomid, name
    from {{ source('sales', 'uoms') }}
    where not _p2c_deleted
    qualify row_number() over (partition by lower(name) order by uomid) = 1
),
existing as (
    select invoicedetailid, _invoiceid_value, sequencenumber
    from {{ source('sales', 'invoicedetails') }}
    where not _p2c_deleted and not coalesce(msdynce_ismisctax, false)
    qualify row_number() over (partition by _invoiceid_value, sequencenumber order by modifiedon desc, invoicedetailid) = 1
)
select l.*, i.invoiceid,
       coalesce(e.invoicedetailid,
                {{ deterministic_id('invoicedetails', 'l.InvoiceNumber', 'l.LineCreationSequenceNumber') }}) as invoicedetailid,
       coalesce(p.productid, case when s.ProductNumber is not null then {{ deterministic_id('products', 'l.ProductNumber') }} end)
           as productid,
       u.uomid,
       case
           when i.excluded_because is not null then i.excluded_because
           when p.productid is null and s.ProductNumber is null
               then 'product ' || l.ProductNumber || ' is neither in Sales nor sellable in F&O'
           when u.uomid is null then 'unit ' || l.SalesUnitSymbol || ' is not a Sales unit (seed units)'
       end as excluded_because
from {{ source('fno', 'ExternallyMaintainedCustomerSalesInvoiceLines') }} as l
join {{ ref('stg_fno__invoices') }} as i
    on lower(i.InvoiceNumber) = lower(l.InvoiceNumber) and i.InvoiceDate = l.InvoiceDate and i.LedgerVoucher = l.LedgerVoucher
left join products as p on lower(p.productnumber) = lower(l.ProductNumber)
left join sellable as s on lower(s.ProductNumber) = lower(l.ProductNumber)
left join seeds.units as m on lower(trim(m.source_value)) = lower(trim(l.SalesUnitSymbol))
left join units as u on lower(u.name) = lower(coalesce(m.target_value, l.SalesUnitSymbol))
left join existing as e on e._invoiceid_value = i.invoiceid and e.sequencenumber = l.LineCreationSequenceNumber
where not l._p2c_deleted
qualify row_number() over (partition by lower(l.InvoiceNumber), l.LineCreationSequenceNumber order by l.LedgerVoucher desc) = 1
