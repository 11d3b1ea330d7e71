{#- Douyin refunds / after-sales from the back-office export; reason texts mapped by the
    refund_reason_map seed (a text with no row maps to other). -#}
with source as (
    select * from {{ raw_source('raw_files', 'douyin_refunds') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }} where channel = 'douyin'
),

final as (
    select
        source.shop_id || ':' || source.refund_id as refund_id,
        source.shop_id || ':' || source.order_id as order_id,
        source.shop_id || ':' || source.line_id as order_line_id,
        cast(source.created_at as timestamptz) as refunded_at,
        cast(source.quantity as integer) as quantity,
        cast(source.refund_amount as decimal(18, 2)) as refund_amount,
        coalesce(reasons.reason_code, 'other') as reason_code,
        source.reason_text,
        coalesce(source.goods_returned, false) as goods_returned,
        coalesce(source.restocked, false) as is_restocked,
        case
            when source.refund_status_text = '退款成功' then 'success'
            when source.refund_status_text = '售后关闭' then 'closed'
            when source.refund_status_text = '售后处理中' then 'processing'
        end as refund_status
    from source
    left join reasons on reasons.reason_text = source.reason_text
)

select * from final
