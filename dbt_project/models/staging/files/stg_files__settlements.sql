{#- Settlement bill entries from exports of any layout, in the canonical settlement columns. The amount is signed
    by the entry's direction (in/out, value-mapped), or is income less expense where the statement has one column
    of each (the expense read as a magnitude whichever sign it is written with), or is the signed amount as
    written. A bill line booked twice is two entries: ids shop_id:bill line, then #2, #3 for the copies. -#}
{#- A table, not a view as staging models are: as a view, each of its four data tests and
    int_settlements_unified computed it again (the local date of every line: 35 s of tests at 10M lines). -#}
{{ config(materialized='table') }}
with source as (
    select * from {{ raw_source('raw_files', 'settlements') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        row_number() over (
            partition by source.shop_id, source.bill_line_id
            order by source.entry_id, source.entry_occurrence, source.source_file, source.source_row
        ) as copy_number
    from source
),

final as (
    select
        numbered.shop_id || ':' || numbered.bill_line_id
            || case when numbered.copy_number > 1 then '#' || cast(numbered.copy_number as varchar) else '' end
            as settlement_line_id,
        numbered.bill_line_id as platform_bill_line_id,
        numbered.shop_id,
        numbered.shop_id || ':' || numbered.order_id as order_id,
        numbered.bill_type,
        cast(case
            when numbered.direction = 'out' then -abs(numbered.amount)
            when numbered.direction = 'in' then abs(numbered.amount)
            when numbered.amount is not null then numbered.amount
            else coalesce(numbered.income_amount, 0) - abs(coalesce(numbered.expense_amount, 0))
        end as decimal(18, 2)) as amount,
        coalesce(
            cast(numbered.bill_date as date),
            {{ local_date('cast(numbered.settle_time as timestamptz)', 'shops.timezone') }}
        ) as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
