with refund_line_items as (
    select * from {{ source('raw_shopify', 'orders__refunds__refund_line_items') }}
),

refunds as (
    select * from {{ source('raw_shopify', 'orders__refunds') }}
),

orders as (
    select _dlt_id, shop_id, id from {{ source('raw_shopify', 'orders') }}
),

renamed as (
    select
        orders.shop_id || ':' || cast(refund_line_items.id as varchar) as refund_line_id,
        orders.shop_id || ':' || cast(refunds.id as varchar) as refund_id,
        orders.shop_id || ':' || cast(orders.id as varchar) as order_id,
        orders.shop_id || ':' || cast(refund_line_items.line_item_id as varchar) as order_line_id,
        cast(refunds.created_at as timestamptz) as refunded_at,
        cast(refund_line_items.quantity as integer) as quantity,
        cast(refund_line_items.subtotal as decimal(18, 2)) as refund_amount,
        refund_line_items.restock_type,
        refund_line_items.restock_type = 'return' as is_restocked,
        refunds.note as reason_text
    from refund_line_items
    inner join refunds on refund_line_items._dlt_parent_id = refunds._dlt_id
    inner join orders on refunds._dlt_parent_id = orders._dlt_id
)

select * from renamed
