with source as (
    select * from {{ raw_source('raw_taobao', 'settlements') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        row_number() over (partition by source.shop_id, source.bill_no order by source.account_log_id) as occurrence
    from source
),

final as (
    select
        -- a bill line the platform sent twice keeps its id; the second copy gets a ':2' suffix
        numbered.shop_id || ':' || numbered.bill_no
            || case when numbered.occurrence > 1 then ':' || cast(numbered.occurrence as varchar) else '' end
            as settlement_line_id,
        numbered.bill_no as platform_bill_line_id,
        numbered.shop_id,
        numbered.shop_id || ':' || cast(numbered.tid as varchar) as order_id,
        case numbered.biz_type
            when '交易收款' then 'income'
            when '天猫佣金' then 'commission'
            when '技术服务费' then 'service_fee'
            when '淘宝客佣金' then 'affiliate_commission'
            when '交易退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        cast(numbered.amount as decimal(18, 2)) as amount,
        {{ local_date("cast(numbered.settle_time || '+08:00' as timestamptz)", 'shops.timezone') }} as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
