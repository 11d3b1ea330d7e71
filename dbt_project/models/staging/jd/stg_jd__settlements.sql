with source as (
    select * from {{ raw_source('raw_jd', 'settlements') }}
),

final as (
    select
        shop_id || ':' || bill_line_id || '#' || cast(occurrence as varchar) as settlement_line_id,
        bill_line_id as platform_bill_line_id,
        shop_id,
        shop_id || ':' || order_id as order_id,
        case fee_type
            when '货款' then 'income'
            when '佣金' then 'commission'
            when '技术服务费' then 'service_fee'
            when '京挑客佣金' then 'affiliate_commission'
            when '退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        cast(amount as decimal(18, 2)) as amount,
        cast(settle_date as date) as settled_date
    from source
)

select * from final
