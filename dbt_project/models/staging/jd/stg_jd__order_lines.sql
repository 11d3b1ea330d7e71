{#- JD gives one seller discount per order and no line-level paid amount: the order's merchant and platform
    discounts are allocated to lines pro rata by line list value (floored to the cent, the remainder on the
    last line), so lines always sum to the order. -#}
with items as (
    select * from {{ raw_source('raw_jd', 'orders__item_info_list') }}
),

orders as (
    select * from {{ ref('stg_jd__orders') }}
),

raw_orders as (
    select _dlt_id, shop_id, order_id from {{ raw_source('raw_jd', 'orders') }}
),

lines as (
    select
        raw_orders.shop_id,
        raw_orders.order_id as platform_order_id,
        items.sku_id as platform_sku_id,
        items.ware_id as platform_product_id,
        nullif(trim(items.outer_sku_id), '') as outer_id,  -- trimmed as on the listings
        items.sku_name as title,
        cast(items.item_total as integer) as quantity,
        cast(items.jd_price as decimal(18, 2)) as unit_list_price,
        cast(items.jd_price * cast(items.item_total as integer) as decimal(18, 2)) as list_amount,
        items._dlt_list_idx as line_index,
        row_number() over (
            partition by raw_orders.shop_id, raw_orders.order_id, items.sku_id order by items._dlt_list_idx
        ) as sku_occurrence
    from items
    inner join raw_orders on items._dlt_parent_id = raw_orders._dlt_id
),

shares as (
    select
        lines.*,
        orders.order_id,
        orders.merchant_discount as order_merchant_discount,
        orders.platform_discount as order_platform_discount,
        sum(lines.list_amount) over (partition by lines.shop_id, lines.platform_order_id) as order_list_amount,
        row_number() over (
            partition by lines.shop_id, lines.platform_order_id order by lines.line_index desc
        ) = 1 as is_last_line
    from lines
    inner join orders
        on orders.shop_id = lines.shop_id and orders.platform_order_id = lines.platform_order_id
),

floored as (
    select
        shares.*,
        cast(floor(order_merchant_discount * 100 * list_amount / nullif(order_list_amount, 0)) / 100
            as decimal(18, 2)) as merchant_share,
        cast(floor(order_platform_discount * 100 * list_amount / nullif(order_list_amount, 0)) / 100
            as decimal(18, 2)) as platform_share
    from shares
),

allocated as (
    select
        floored.*,
        case
            when is_last_line
                then order_merchant_discount
                    - coalesce(sum(merchant_share) over (partition by shop_id, platform_order_id), 0)
                    + merchant_share
            else merchant_share
        end as merchant_discount,
        case
            when is_last_line
                then order_platform_discount
                    - coalesce(sum(platform_share) over (partition by shop_id, platform_order_id), 0)
                    + platform_share
            else platform_share
        end as platform_discount
    from floored
),

final as (
    select
        shop_id || ':' || {{ line_key('platform_order_id', 'platform_sku_id', 'sku_occurrence') }} as order_line_id,
        order_id,
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
