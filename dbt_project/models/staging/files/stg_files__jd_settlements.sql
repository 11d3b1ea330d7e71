{#- JD settlement bill lines from the 对账单明细 export, in the canonical settlement columns: the same ids as the
    API staging model (shop_id:单据编号#occurrence, so a line booked twice is #1 and #2), 金额 signed by
    收支方向, the bill date as the settlement date. -#}
with source as (
    select * from {{ raw_source('raw_files', 'jd_settlements') }}
),

numbered as (
    select
        source.*,
        row_number() over (partition by source.shop_id, source.bill_line_id order by source.entry_id) as occurrence
    from source
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
        cast(case when direction = '支出' then -amount else amount end as decimal(18, 2)) as amount,
        cast(bill_date as date) as settled_date
    from numbered
)

select * from final
