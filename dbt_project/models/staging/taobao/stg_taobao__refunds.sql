with source as (
    select * from {{ raw_source('raw_taobao', 'refunds') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }}
    where channel = 'taobao'
),

final as (
    select
        source.shop_id || ':' || cast(source.refund_id as varchar) as refund_id,
        source.shop_id || ':' || cast(source.tid as varchar) as order_id,
        case when source.oid is not null then source.shop_id || ':' || cast(source.oid as varchar) end
            as order_line_id,
        cast(source.created || '+08:00' as timestamptz) as refunded_at,
        cast(source.num as integer) as quantity,
        cast(source.refund_fee as decimal(18, 2)) as refund_amount,
        coalesce(reasons.reason_code, 'other') as reason_code,
        source.reason as reason_text,
        coalesce(cast(source.has_good_return as boolean), false) as goods_returned,
        -- the seller has the goods back in stock once the return was received
        coalesce(source.good_status = 'SELLER_RECEIVED', false) as is_restocked,
        case source.status
            when 'SUCCESS' then 'success'
            when 'CLOSED' then 'closed'
            else 'processing'
        end as refund_status
    from source
    left join reasons on source.reason = reasons.reason_text
)

select * from final
