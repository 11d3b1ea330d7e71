{#- Tmall/Taobao settlement bill lines from the Alipay statement export (支付宝 账务明细), in the canonical
    settlement columns: the same ids as the API staging model (a line booked twice keeps its bill line id, the
    second copy gets ':2'), signed amounts (income − expense), the local settlement date. -#}
with source as (
    select * from {{ raw_source('raw_files', 'taobao_settlements') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        row_number() over (partition by source.shop_id, source.bill_line_id order by source.entry_id) as occurrence
    from source
),

final as (
    select
        numbered.shop_id || ':' || numbered.bill_line_id
            || case when numbered.occurrence > 1 then ':' || cast(numbered.occurrence as varchar) else '' end
            as settlement_line_id,
        numbered.bill_line_id as platform_bill_line_id,
        numbered.shop_id,
        -- 商户订单号 is T200P + the trade id
        numbered.shop_id || ':' || {{ dbt.replace('numbered.merchant_order_id', "'T200P'", "''") }} as order_id,
        case numbered.biz_type
            when '交易收款' then 'income'
            when '天猫佣金' then 'commission'
            when '技术服务费' then 'service_fee'
            when '淘宝客佣金' then 'affiliate_commission'
            when '交易退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        -- the expense column is read as a magnitude whichever sign the statement writes it with
        cast(coalesce(numbered.income_amount, 0) - abs(coalesce(numbered.expense_amount, 0)) as decimal(18, 2))
            as amount,
        {{ local_date('cast(numbered.settle_time as timestamptz)', 'shops.timezone') }} as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
