with source as (
    select * from {{ raw_source('raw_douyin', 'settlements') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

numbered as (
    select
        source.*,
        -- a bill line the platform sent twice keeps its bill_id; the copy gets a suffix so analytics can flag it
        row_number() over (partition by source.shop_id, source.bill_id order by source.request_no) as copy_number
    from source
),

final as (
    select
        numbered.shop_id || ':' || numbered.bill_id
        || case when numbered.copy_number > 1 then '#' || cast(numbered.copy_number as varchar) else '' end
            as settlement_line_id,
        numbered.bill_id as platform_bill_line_id,
        numbered.shop_id,
        numbered.shop_id || ':' || numbered.shop_order_id as order_id,
        case numbered.flow_type
            when 'order_income' then 'income'
            when 'platform_service_fee' then 'service_fee'
            when 'commission' then 'commission'
            when 'affiliate_commission' then 'affiliate_commission'
            when 'refund' then 'refund'
            when 'platform_subsidy' then 'subsidy'
        end as bill_type,
        cast(numbered.settle_amount / 100 as decimal(18, 2)) as amount,
        {{ local_date("cast(numbered.settle_time || '+08' as timestamptz)", 'shops.timezone') }} as settled_date
    from numbered
    inner join shops on numbered.shop_id = shops.shop_id
)

select * from final
