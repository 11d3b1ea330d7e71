{#- One row per refunded line of a Shopify refund (a refund can cover several lines). -#}
with refund_line_items as (
    select * from {{ raw_source('raw_shopify', 'orders__refunds__refund_line_items') }}
),

refunds as (
    select * from {{ raw_source('raw_shopify', 'orders__refunds') }}
),

orders as (
    select _dlt_id, shop_id, id from {{ raw_source('raw_shopify', 'orders') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }}
    where channel = 'shopify'
),

renamed as (
    select
        orders.shop_id || ':' || cast(refund_line_items.id as varchar) as refund_id,
        orders.shop_id || ':' || cast(refunds.id as varchar) as platform_refund_id,
        orders.shop_id || ':' || cast(orders.id as varchar) as order_id,
        orders.shop_id || ':' || cast(refund_line_items.line_item_id as varchar) as order_line_id,
        cast(refunds.created_at as timestamptz) as refunded_at,
        cast(refund_line_items.quantity as integer) as quantity,
        cast(refund_line_items.subtotal as decimal(18, 2)) as refund_amount,
        refunds.note as reason_text,
        refund_line_items.restock_type,
        refund_line_items.restock_type = 'return' as goods_returned,
        refund_line_items.restock_type = 'return' as is_restocked,
        'success' as refund_status
    from refund_line_items
    inner join refunds on refund_line_items._dlt_parent_id = refunds._dlt_id
    inner join orders on refunds._dlt_parent_id = orders._dlt_id
),

final as (
    select
        renamed.*,
        coalesce(reasons.reason_code, 'other') as reason_code
    from renamed
    left join reasons on renamed.reason_text = reasons.reason_text
)

select * from final
