{#- One row per promotion × shop × promoted SKU × local day of its measurement window: the `pre` period (the
    `promo_baseline_days` days before the start), the `promo` days and the `post` period (`promo_post_days` days
    after the end), limited to days the warehouse has orders for (from the shop's first order to as_of_date).
    Every shop of the seller has rows, not only the promotion's: how the same SKU sold in the other shops
    (where this promotion did not run) is its own drift — season, launch ramp, trend — that promotion_results
    keeps apart from the lift. Units are master-SKU units of paid orders whose sold item (the kit, for a kit
    line) is the promoted SKU. Each day says whether it may serve as a regular day: not a stock-out day of the
    SKU (a kit: of any component; stock is shared by all shops) and not touched by another promotion of that
    shop on that SKU (its days or its post-promotion dip, when promo_baseline_excludes_post_dip). -#}
{%- set pre_days = var('promo_baseline_days') -%}
{%- set post_days = var('promo_post_days') -%}
with promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

item_days as (
    select * from {{ ref('int_shop_item_days') }}
),

stock_days as (
    select * from {{ ref('int_sku_stock_days') }}
),

kit_components as (
    select * from {{ ref('stg_product_master__kit_components') }}
),

weekday_factors as (
    select * from {{ ref('int_weekday_factors') }}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

shop_history as (
    select
        shop_id,
        min(order_date) as first_order_date
    from orders
    group by 1
),

-- a kit is out of stock when any component is
item_stockout_days as (
    select
        coalesce(kit_components.kit_sku, stock_days.sku) as item,
        stock_days.stock_date,
        bool_or(stock_days.is_stockout) as is_stockout
    from stock_days
    left join kit_components on kit_components.component_sku = stock_days.sku
    group by 1, 2
    union all
    select
        sku as item,
        stock_date,
        is_stockout
    from stock_days
    where sku in (select component_sku from kit_components)
),

item_stockouts as (
    select
        item,
        stock_date,
        bool_or(is_stockout) as is_stockout
    from item_stockout_days
    group by 1, 2
),

-- every (shop, SKU, day) a promotion touches: its own days, and its post-promotion dip
promotion_touch as (
    select
        promotions.promo_id,
        promotions.shop_id,
        promotion_skus.sku,
        cast(day as date) as touched_date,
        cast(day as date) <= promotions.end_date as is_promo_day
    from promotions
    inner join promotion_skus on promotion_skus.promo_id = promotions.promo_id
    cross join unnest(generate_series(
        promotions.start_date,
        promotions.end_date + {{ post_days }},
        interval 1 day
    )) as days (day)
),

windows as (
    select
        promotions.promo_id,
        promotions.shop_id as promotion_shop_id,
        promotion_skus.sku,
        cast(day as date) as activity_date,
        case
            when cast(day as date) < promotions.start_date then 'pre'
            when cast(day as date) <= promotions.end_date then 'promo'
            else 'post'
        end as period
    from promotions
    inner join promotion_skus on promotion_skus.promo_id = promotions.promo_id
    cross join unnest(generate_series(
        promotions.start_date - {{ pre_days }},
        promotions.end_date + {{ post_days }},
        interval 1 day
    )) as days (day)
),

final as (
    select
        {{ dbt.concat([
            "windows.promo_id", "'|'", "shop_history.shop_id", "'|'", "windows.sku", "'|'",
            "cast(windows.activity_date as varchar)"
        ]) }} as promotion_item_day_id,
        windows.promo_id,
        shop_history.shop_id,
        shop_history.shop_id = windows.promotion_shop_id as is_promotion_shop,
        windows.sku,
        coalesce(products.category, 'uncategorised') as category,
        windows.activity_date,
        windows.period,
        coalesce(weekday_factors.weekday_factor, 1.0) as weekday_factor,
        cast(coalesce(item_days.units, 0) as integer) as units,
        cast(coalesce(item_days.units_squared, 0) as integer) as units_squared,
        cast(coalesce(item_days.net_revenue_cny, 0) as decimal(18, 2)) as net_revenue_cny,
        cast(coalesce(item_days.contribution_margin_cny, 0) as decimal(18, 2)) as contribution_margin_cny,
        cast(coalesce(item_days.merchant_discount_cny, 0) as decimal(18, 2)) as merchant_discount_cny,
        coalesce(item_stockouts.is_stockout, false) as is_stockout,
        exists (
            select 1
            from promotion_touch
            where promotion_touch.shop_id = shop_history.shop_id
                and promotion_touch.sku = windows.sku
                and promotion_touch.touched_date = windows.activity_date
                and promotion_touch.promo_id <> windows.promo_id
                and (promotion_touch.is_promo_day or {{ var('promo_baseline_excludes_post_dip') }})
        ) as is_other_promotion
    from windows
    cross join shop_history
    left join products on products.sku = windows.sku
    left join item_days
        on item_days.shop_id = shop_history.shop_id
        and item_days.item = windows.sku
        and item_days.order_date = windows.activity_date
    left join item_stockouts
        on item_stockouts.item = windows.sku
        and item_stockouts.stock_date = windows.activity_date
    left join weekday_factors on weekday_factors.iso_weekday = isodow(windows.activity_date)
    where windows.activity_date >= shop_history.first_order_date
        and windows.activity_date <= {{ as_of_date() }}
)

select * from final
