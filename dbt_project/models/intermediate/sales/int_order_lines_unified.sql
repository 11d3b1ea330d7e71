{#- One row per order line from every channel, with its order's status and dates and what was refunded on it,
    amounts in the shop's currency. Incremental by order (`incremental_by_order`). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_order_lines_unified') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_order_lines_unified') }}
),

api_lines as (
    select * from (
        {{ union_channels('order_lines') }}
    ) as api_rows
    where {{ only_changed() }}
),

file_lines as (
    select * from (
        {{ union_files('order_lines') }}
    ) as file_rows
    where {{ only_changed() }}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
    where {{ only_changed() }}
),

lines as (
    -- a line comes from wherever its order came from (API or export), never from both
    select api_lines.* from api_lines
    inner join orders on api_lines.order_id = orders.order_id and orders.origin = 'api'
    union all
    select file_lines.* from file_lines
    inner join orders on file_lines.order_id = orders.order_id and orders.origin = 'file'
),

refunds as (
    select
        order_line_id,
        sum(quantity) as refunded_quantity,
        sum(refund_amount) as refund_amount
    from {{ ref('int_refunds_unified') }}
    where refund_status = 'success' and order_line_id is not null and {{ only_changed() }}
    group by 1
),

final as (
    select
        lines.order_line_id,
        lines.order_id,
        orders.shop_id,
        lines.channel,
        orders.origin,
        orders.platform_order_id,
        lines.platform_line_id,
        orders.created_at,
        orders.paid_at,
        orders.cancelled_at,
        orders.order_date,
        orders.order_status,
        orders.buyer_key,
        orders.currency,
        lines.platform_sku_id,
        lines.outer_id,
        lines.title,
        lines.quantity,
        lines.unit_list_price,
        lines.list_amount,
        lines.merchant_discount,
        lines.platform_discount,
        lines.paid_amount,
        coalesce(refunds.refunded_quantity, 0) as refunded_quantity,
        coalesce(refunds.refund_amount, cast(0 as decimal(18, 2))) as refund_amount,
        {{ order_version('int_order_lines_unified', 'orders.order_version') }} as order_version
    from lines
    inner join orders on lines.order_id = orders.order_id
    left join refunds on lines.order_line_id = refunds.order_line_id
)

select * from final
