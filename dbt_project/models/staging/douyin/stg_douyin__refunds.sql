with source as (
    select * from {{ raw_source('raw_douyin', 'refunds') }}
),

reasons as (
    select reason_text, reason_code from {{ ref('refund_reason_map') }} where channel = 'douyin'
),

final as (
    select
        source.shop_id || ':' || source.aftersale_id as refund_id,
        source.shop_id || ':' || source.shop_order_id as order_id,
        case
            when nullif(source.sku_order_id, '') is not null then source.shop_id || ':' || source.sku_order_id
        end as order_line_id,
        to_timestamp(source.apply_time) as refunded_at,
        cast(source.aftersale_num as integer) as quantity,
        cast(source.refund_amount / 100 as decimal(18, 2)) as refund_amount,
        coalesce(reasons.reason_code, 'other') as reason_code,
        source.reason as reason_text,
        source.aftersale_type = 0 as goods_returned,
        coalesce(source.stock_back, false) as is_restocked,
        case source.aftersale_status
            when 12 then 'success'
            when 28 then 'closed'
            else 'processing'
        end as refund_status
    from source
    left join reasons on source.reason = reasons.reason_text
)

select * from final
