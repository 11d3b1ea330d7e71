{#- One row per order line from every channel, in the shop's currency, with the canonical order status.
    Each channel's staging models already speak the canonical columns; this model only stacks them. -#}
with shopify_lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

shopify_orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

shopify_refunds as (
    select
        order_line_id,
        sum(quantity) as refunded_quantity,
        sum(refund_amount) as refund_amount
    from {{ ref('stg_shopify__refund_lines') }}
    group by 1
),

shopify as (
    select
        lines.order_line_id,
        lines.order_id,
        orders.shop_id,
        'shopify' as channel,
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
        cast(0 as decimal(18, 2)) as platform_discount,
        lines.paid_amount,
        coalesce(refunds.refunded_quantity, 0) as refunded_quantity,
        coalesce(refunds.refund_amount, cast(0 as decimal(18, 2))) as refund_amount
    from shopify_lines as lines
    inner join shopify_orders as orders on lines.order_id = orders.order_id
    left join shopify_refunds as refunds on lines.order_line_id = refunds.order_line_id
)

select * from shopify
