{#- Refunds / after-sales from exports of any layout. The line is the export's line id, else the order and SKU
    (the SKU's first line in the order, as line_key names it). The reason is the mapping's value-mapped code,
    else the refund_reason_map seed's code for the shop's channel and text, else other. -#}
with source as (
    select * from {{ raw_source('raw_files', 'refunds') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }}
),

final as (
    select
        source.shop_id || ':' || source.refund_id as refund_id,
        source.shop_id || ':' || source.order_id as order_id,
        source.shop_id || ':' || coalesce(source.line_id, source.order_id || '-' || source.sku_id) as order_line_id,
        cast(source.created_at as timestamptz) as refunded_at,
        cast(source.quantity as integer) as quantity,
        cast(source.refund_amount as decimal(18, 2)) as refund_amount,
        coalesce(source.reason_code, reasons.reason_code, 'other') as reason_code,
        source.reason_text,
        coalesce(source.goods_returned, false) as goods_returned,
        coalesce(source.restocked, false) as is_restocked,
        source.refund_status
    from source
    left join shops on source.shop_id = shops.shop_id
    left join reasons on reasons.channel = shops.channel and reasons.reason_text = source.reason_text
)

select * from final
