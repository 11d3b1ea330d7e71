with source as (
    select * from {{ raw_source('raw_jd', 'refunds') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }} where channel = 'jd'
),

final as (
    select
        source.shop_id || ':' || source.id as refund_id,
        source.shop_id || ':' || source.order_id as order_id,
        case
            when source.sku_id is not null then source.shop_id || ':' || source.order_id || '-' || source.sku_id
        end as order_line_id,
        cast(source.apply_time || '+08:00' as timestamptz) as refunded_at,
        cast(source.num as integer) as quantity,
        cast(source.apply_refund_sum as decimal(18, 2)) as refund_amount,
        coalesce(reasons.reason_code, 'other') as reason_code,
        source.reason as reason_text,
        coalesce(source.goods_returned, false) as goods_returned,
        coalesce(source.restocked, false) as is_restocked,
        case source.status
            when '1' then 'success'
            when '2' then 'closed'
            else 'processing'
        end as refund_status
    from source
    left join reasons on reasons.reason_text = source.reason
)

select * from final
