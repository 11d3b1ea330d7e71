{#- PDD gives discounts per order only: allocate them to lines pro rata by list value, the last line takes the
    remainder, so the lines sum to the order. -#}
with orders as (
    select * from {{ raw_source('raw_pinduoduo', 'orders') }}
),

items as (
    select * from {{ raw_source('raw_pinduoduo', 'orders__item_list') }}
),

lines as (
    select
        orders.shop_id,
        orders.order_sn as platform_order_id,
        items._dlt_list_idx as position,
        row_number() over (
            partition by orders._dlt_id, items.sku_id order by items._dlt_list_idx
        ) as sku_occurrence,
        cast(items.goods_id as varchar) as platform_product_id,
        cast(items.sku_id as varchar) as platform_sku_id,
        nullif(trim(items.outer_id), '') as outer_id,  -- trimmed as on the listings
        items.goods_name as title,
        cast(items.goods_count as integer) as quantity,
        cast(items.goods_price / 100 as decimal(18, 2)) as unit_list_price,
        cast(items.goods_price * items.goods_count / 100 as decimal(18, 2)) as list_amount,
        cast(coalesce(orders.seller_discount, 0) / 100 as decimal(18, 2)) as order_merchant_discount,
        cast(coalesce(orders.platform_discount, 0) / 100 as decimal(18, 2)) as order_platform_discount,
        sum(items.goods_price * items.goods_count) over (partition by orders._dlt_id) / 100 as order_list_amount,
        row_number() over (partition by orders._dlt_id order by items._dlt_list_idx desc) = 1 as is_last_line
    from items
    inner join orders on items._dlt_parent_id = orders._dlt_id
),

shares as (
    select
        lines.*,
        case when is_last_line then 0 else
            cast(floor(order_merchant_discount * list_amount / nullif(order_list_amount, 0) * 100) / 100 as decimal(18, 2))
        end as merchant_share,
        case when is_last_line then 0 else
            cast(floor(order_platform_discount * list_amount / nullif(order_list_amount, 0) * 100) / 100 as decimal(18, 2))
        end as platform_share
    from lines
),

allocated as (
    select
        shares.*,
        case when is_last_line
            then order_merchant_discount - sum(merchant_share) over (partition by shop_id, platform_order_id)
            else merchant_share
        end as merchant_discount,
        case when is_last_line
            then order_platform_discount - sum(platform_share) over (partition by shop_id, platform_order_id)
            else platform_share
        end as platform_discount
    from shares
),

final as (
    {#- POP has no line id: a line is its order, SKU and occurrence (macro line_key), as the back-office export
        keys it, so a refund read from an export finds the line the API loaded. #}
    select
        shop_id || ':' || {{ line_key('platform_order_id', 'platform_sku_id', 'sku_occurrence') }} as order_line_id,
        shop_id || ':' || platform_order_id as order_id,
        {{ line_key('platform_order_id', 'platform_sku_id', 'sku_occurrence') }} as platform_line_id,
        platform_product_id,
        platform_sku_id,
        outer_id,
        title,
        quantity,
        unit_list_price,
        list_amount,
        cast(coalesce(merchant_discount, 0) as decimal(18, 2)) as merchant_discount,
        cast(coalesce(platform_discount, 0) as decimal(18, 2)) as platform_discount,
        cast(list_amount - coalesce(merchant_discount, 0) - coalesce(platform_discount, 0) as decimal(18, 2))
            as paid_amount
    from allocated
)

select * from final
