with source as (
    select * from {{ raw_source('raw_pinduoduo', 'refunds') }}
),

reasons as (
    select * from {{ ref('refund_reason_map') }} where channel = 'pinduoduo'
),

matched as (
    {#- PDD names the order and sku, not a line; a line is keyed by them (stg_pinduoduo__order_lines), so the
        refund finds its line whether the order came from the API or from an export. -#}
    select
        source.*,
        source.shop_id || ':' || source.order_sn || '-' || cast(source.sku_id as varchar) as order_line_id
    from source
),

final as (
    select
        matched.shop_id || ':' || cast(matched.id as varchar) as refund_id,
        matched.shop_id || ':' || matched.order_sn as order_id,
        matched.order_line_id,
        cast(nullif(matched.created_time, '') || '+08:00' as timestamptz) as refunded_at,
        cast(matched.goods_number as integer) as quantity,
        cast(matched.refund_amount / 100 as decimal(18, 2)) as refund_amount,
        coalesce(reasons.reason_code, 'other') as reason_code,
        matched.after_sales_reason as reason_text,
        matched.after_sales_type = 3 as goods_returned,
        coalesce(matched.return_stock_status = 1, false) as is_restocked,
        case matched.after_sales_status
            when 10 then 'success'
            when 11 then 'closed'
            else 'processing'
        end as refund_status
    from matched
    left join reasons on reasons.reason_text = matched.after_sales_reason
)

select * from final
