{#- One row per promotion × shop × promoted SKU × local day of its measurement window (int_promotion_window_days:
    a table of its own, so the joins below are planned on its real size — 17 M rows at 10 M order lines; planned
    on an estimate, the grid became a hash join's build side and ran out of memory). Every shop of the seller has
    rows, not only the promotion's: how the same SKU sold in the other shops (where this promotion did not run) is its own drift — season, launch ramp, trend — that promotion_results
    keeps apart from the lift. Units are master-SKU units of paid orders whose sold item (the kit, for a kit
    line) is the promoted SKU. Each day says whether it may serve as a regular day: not a stock-out day of the
    SKU (a kit: of any component; stock is shared by all shops) and not touched by another promotion of that
    shop on that SKU (its days or its post-promotion dip, when promo_baseline_excludes_post_dip). -#}
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

windows as (
    select * from {{ ref('int_promotion_window_days') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
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

-- the promotions touching each (shop, SKU, day), as their smallest and largest id: one left join instead of a
-- correlated EXISTS, which DuckDB decorrelates over every distinct row of the grid
touched_days as (
    select
        shop_id,
        sku,
        touched_date,
        min(promo_id) as first_promo_id,
        max(promo_id) as last_promo_id
    from promotion_touch
    where is_promo_day or {{ var('promo_baseline_excludes_post_dip') }}
    group by 1, 2, 3
),

final as (
    select
        {{ dbt.concat([
            "windows.promo_id", "'|'", "windows.shop_id", "'|'", "windows.sku", "'|'",
            "cast(windows.activity_date as varchar)"
        ]) }} as promotion_item_day_id,
        windows.promo_id,
        windows.shop_id,
        windows.is_promotion_shop,
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
        -- another promotion touches the day when the day's touching promotions are not just this one
        coalesce(
            touched_days.first_promo_id <> windows.promo_id or touched_days.last_promo_id <> windows.promo_id,
            false
        ) as is_other_promotion
    from windows
    left join products on products.sku = windows.sku
    left join item_days
        on item_days.shop_id = windows.shop_id
        and item_days.item = windows.sku
        and item_days.order_date = windows.activity_date
    left join item_stockouts
        on item_stockouts.item = windows.sku
        and item_stockouts.stock_date = windows.activity_date
    left join weekday_factors on weekday_factors.iso_weekday = isodow(windows.activity_date)
    left join touched_days
        on touched_days.shop_id = windows.shop_id
        and touched_days.sku = windows.sku
        and touched_days.touched_date = windows.activity_date
)

select * from final
