with source as (
    select * from {{ raw_source('raw_pinduoduo', 'settlements') }}
),

numbered as (
    select
        source.*,
        row_number() over (partition by shop_id, bill_line_id order by id) as occurrence
    from source
),

final as (
    select
        shop_id || ':' || bill_line_id || '#' || cast(occurrence as varchar) as settlement_line_id,
        bill_line_id as platform_bill_line_id,
        shop_id,
        shop_id || ':' || order_sn as order_id,
        case finance_type
            when '交易收入' then 'income'
            when '技术服务费' then 'commission'
            when '支付服务费' then 'service_fee'
            when '多多进宝佣金' then 'affiliate_commission'
            when '退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        cast(amount / 100 as decimal(18, 2)) as amount,
        cast(bill_date as date) as settled_date
    from numbered
)

select * from final
