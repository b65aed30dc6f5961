{{ config(description="F&O invoices of externally maintained customers, one per invoice number, with their Sales customer and order, and the reason an invoice does not come to Sales.") }}
-- Source (decisions.md 2): every row of the externally maintained invoice entity. The entity shows only
-- customers that are externally maintained; with invoices_only_externally_maintained_customers p2c checks the
-- customer's flag in CustomersV2 too. The F&O key also holds InvoiceDate and LedgerVoucher: a number posted
-- twice (a credit note, a reposting) keeps its latest posting. Its order must be in Sales or come with the
-- orders flow; the order's Sales id is the one stg_fno__sales_orders gives it.
with invoices as (
    select *
    from {{ source('fno', 'ExternallyMaintainedCustomerSalesInvoiceHeaders') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
    qualify row_number() over (partition by lower(InvoiceNumber) order by InvoiceDate desc, LedgerVoucher desc) = 1
),
customers as (
    select * from {{ ref('stg_sales__document_customers') }}
    qualify row_number() over (partition by lower(customer_number) order by customer_entity, customerid) = 1
),
fno_customers as (
    select CustomerAccount, IsExternallyMaintained
    from {{ source('fno', 'CustomersV2') }}
    where not _p2c_deleted and lower(dataAreaId) = lower({{ var('fno_company') }})
),
sales_orders as (
    select salesorderid, ordernumber
    from {{ source('sales', 'salesorders') }}
    where not _p2c_deleted and coalesce(trim(ordernumber), '') <> ''
    qualify row_number() over (partition by lower(ordernumber) order by modifiedon desc, salesorderid) = 1
),
sales_invoices as (
    select invoiceid, invoicenumber
    from {{ source('sales', 'invoices') }}
    where not _p2c_deleted and coalesce(trim(invoicenumber), '') <> ''
    qualify row_number() over (partition by lower(invoicenumber) order by modifiedon desc, invoiceid) = 1
)
select i.*,
       coalesce(si.invoiceid, {{ deterministic_id('invoices', 'i.InvoiceNumber') }}) as invoiceid,
       c.customerid, c.customer_entity, cur.transactioncurrencyid,
       case when coalesce(i.SalesOrderNumber, '') <> '' then coalesce(so.salesorderid, o.salesorderid) end as salesorderid,
       case
           when {{ var('invoices_only_externally_maintained_customers') }} and fc.IsExternallyMaintained = 'No'
               then 'customer ' || i.InvoiceCustomerAccountNumber || ' is not externally maintained'
           when c.customerid is null then 'customer ' || i.InvoiceCustomerAccountNumber || ' is not in Sales'
           when cur.transactioncurrencyid is null then 'currency ' || i.CurrencyCode || ' is not a Sales currency'
           when coalesce(i.SalesOrderNumber, '') <> '' and so.salesorderid is null and o.SalesOrderNumber is null
               then 'its order ' || i.SalesOrderNumber || ' is neither in Sales nor in F&O'
           when coalesce(i.SalesOrderNumber, '') <> '' and so.salesorderid is null and o.excluded_because is not null
               then 'its order ' || i.SalesOrderNumber || ' does not come to Sales: ' || o.excluded_because
       end as excluded_because
from invoices as i
left join customers as c on lower(c.customer_number) = lower(i.InvoiceCustomerAccountNumber)
left join fno_customers as fc on lower(fc.CustomerAccount) = lower(i.InvoiceCustomerAccountNumber)
left join {{ ref('stg_sales__transactioncurrencies') }} as cur on cur.isocurrencycode = upper(i.CurrencyCode)
left join {{ ref('stg_fno__sales_orders') }} as o on lower(o.SalesOrderNumber) = lower(i.SalesOrderNumber)
left join sales_orders as so on lower(so.ordernumber) = lower(i.SalesOrderNumber)
left join sales_invoices as si on lower(si.invoicenumber) = lower(i.InvoiceNumber)
