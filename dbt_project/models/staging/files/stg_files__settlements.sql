{#- Settlement bill entries from exports of any layout, in the canonical settlement columns. The amount is signed
    by the entry's direction (in/out, value-mapped), or is income less expense where the statement has one column
    of each (the expense read as a magnitude whichever sign it is written with), or is the signed amount as
    written. A bill line booked twice is two entries: ids shop_id:bill line, then #2, #3 for the copies. -#}
{#- A table, not a view as staging models are: as a view, each of its four data tests and
    int_settlements_unified computed it again (the local date of every line: 35 s of tests at 10M lines).
    Incremental: a run numbers and signs again only the bill lines (shop and platform bill line id, with their
    copies) whose export entries changed — their count or the sum of their hashes (`lines_signature`) differs, a
    file added, replaced or removed — and drops the bill lines no export holds any more; a change to the shops
    (a timezone) does them all again. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['shop_id', 'platform_bill_line_id'],
    on_schema_change='sync_all_columns',
    post_hook="""
        delete from {{ this }}
        where shop_id || ':' || platform_bill_line_id not in (
            select shop_id || ':' || bill_line_id from {{ raw_source('raw_files', 'settlements') }}
        )
    """,
) }}

{%- set shops_signature = table_hash(ref('stg_config__shops')) %}
{#- a table built before it recorded signatures (an older shopkeep) is done again whole -#}
{%- set signed = has_column('lines_signature') %}

with {% if signed %}
changed_bill_lines as (
    select current_lines.shop_id, current_lines.bill_line_id
    from (
        select shop_id, bill_line_id, hash(count(*), sum(hash(raw_rows)), {{ shops_signature }}) as lines_signature
        from {{ raw_source('raw_files', 'settlements') }} as raw_rows
        group by 1, 2
    ) as current_lines
    left join (
        -- each bill line's first copy (the others carry the same signature)
        select shop_id, platform_bill_line_id, lines_signature
        from {{ this }}
        where settlement_line_id = shop_id || ':' || platform_bill_line_id
    ) as built
        on current_lines.shop_id = built.shop_id and current_lines.bill_line_id = built.platform_bill_line_id
    where built.lines_signature is distinct from current_lines.lines_signature
),
{% endif %}

source as (
    select raw_rows.*, hash(raw_rows) as entry_hash
    from {{ raw_source('raw_files', 'settlements') }} as raw_rows
    {% if signed %}
        semi join changed_bill_lines using (shop_id, bill_line_id)
    {% endif %}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        row_number() over bill_line as copy_number,
        -- the same window (one sort), framed on the whole bill line
        hash(
            count(*) over (bill_line rows between unbounded preceding and unbounded following),
            sum(entry_hash) over (bill_line rows between unbounded preceding and unbounded following),
            {{ shops_signature }}
        ) as lines_signature
    from source
    window bill_line as (
        partition by source.shop_id, source.bill_line_id
        order by source.entry_id, source.entry_occurrence, source.source_file, source.source_row
    )
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
        ) as settled_date,
        numbered.lines_signature
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
