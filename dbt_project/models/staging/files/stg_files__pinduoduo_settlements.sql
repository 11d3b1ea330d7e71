{#- Pinduoduo settlement bill lines from the 货款明细 export, in the canonical settlement columns: the same ids
    as the API staging model (shop_id:账单编号#occurrence), signed yuan (income − expense; the export is in yuan
    where the API sends fen), the local settlement date. -#}
with source as (
    select * from {{ raw_source('raw_files', 'pinduoduo_settlements') }}
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
        numbered.shop_id || ':' || numbered.bill_line_id || '#' || cast(numbered.occurrence as varchar)
            as settlement_line_id,
        numbered.bill_line_id as platform_bill_line_id,
        numbered.shop_id,
        numbered.shop_id || ':' || numbered.order_id as order_id,
        case numbered.finance_type
            when '交易收入' then 'income'
            when '技术服务费' then 'commission'
            when '支付服务费' then 'service_fee'
            when '多多进宝佣金' then 'affiliate_commission'
            when '退款' then 'refund'
            when '平台补贴' then 'subsidy'
        end as bill_type,
        cast(coalesce(numbered.income_amount, 0) - abs(coalesce(numbered.expense_amount, 0)) as decimal(18, 2))
            as amount,
        {{ local_date('cast(numbered.settle_time as timestamptz)', 'shops.timezone') }} as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
