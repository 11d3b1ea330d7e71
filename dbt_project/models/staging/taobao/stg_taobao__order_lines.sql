with trades as (
    select * from {{ raw_source('raw_taobao', 'orders') }}
),

lines as (
    select * from {{ raw_source('raw_taobao', 'orders__orders') }}
),

joined as (
    select
        trades.shop_id,
        trades.tid,
        lines.oid,
        lines.num_iid,
        lines.sku_id,
        lines.outer_sku_id,
        lines.title,
        cast(lines.num as integer) as quantity,
        cast(lines.price as decimal(18, 2)) as unit_list_price,
        cast(coalesce(lines.discount_fee, 0) as decimal(18, 2)) as merchant_discount,
        cast(lines.payment as decimal(18, 2)) as paid_amount
    from lines
    inner join trades on lines._dlt_parent_id = trades._dlt_id
),

final as (
    select
        shop_id || ':' || cast(oid as varchar) as order_line_id,
        shop_id || ':' || cast(tid as varchar) as order_id,
        cast(oid as varchar) as platform_line_id,
        cast(num_iid as varchar) as platform_product_id,
        cast(sku_id as varchar) as platform_sku_id,
        nullif(trim(outer_sku_id), '') as outer_id,  -- trimmed as on the listings
        title,
        quantity,
        unit_list_price,
        cast(unit_list_price * quantity as decimal(18, 2)) as list_amount,
        merchant_discount,
        -- TOP gives the line's merchant discount and what the buyer paid for it; the rest is platform-funded
        cast(unit_list_price * quantity - merchant_discount - paid_amount as decimal(18, 2)) as platform_discount,
        paid_amount
    from joined
)

select * from final
