{#- Douyin settlement bill lines from the 资金流水 export, in the canonical settlement columns: the same ids as
    the API staging model (a line booked twice keeps its 结算单号, the copy gets '#2'), 动账金额 signed by
    动账方向, the local settlement date. -#}
with source as (
    select * from {{ raw_source('raw_files', 'douyin_settlements') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        row_number() over (partition by source.shop_id, source.bill_line_id order by source.entry_id) as copy_number
    from source
),

final as (
    select
        numbered.shop_id || ':' || numbered.bill_line_id
            || case when numbered.copy_number > 1 then '#' || cast(numbered.copy_number as varchar) else '' end
            as settlement_line_id,
        numbered.bill_line_id as platform_bill_line_id,
        numbered.shop_id,
        numbered.shop_id || ':' || numbered.order_id as order_id,
        case numbered.flow_type
            when '订单收入' then 'income'
            when '平台服务费' then 'service_fee'
            when '佣金' then 'commission'
            when '达人佣金' then 'affiliate_commission'
            when '售后退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        cast(case when numbered.direction = '出账' then -numbered.amount else numbered.amount end as decimal(18, 2))
            as amount,
        {{ local_date('cast(numbered.settle_time as timestamptz)', 'shops.timezone') }} as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
