{#- The market around a promotion: per promotion × shop (every shop of the seller, the promotion's own and the
    others) × product category × day of the promotion's window, the units of that shop's items of that category
    that no promotion explains: never this promotion's SKUs, not an item a promotion of that shop touched on any
    day of the window (its days or its post-promotion dip — the same items in every period, so that a festival's
    promoted best-sellers leaving the control do not look like a falling market), and not an item launched less than `promo_control_min_age_days`
    before the pre-period (new products ramp up and would make the market look like it grows). Their movement
    between the pre-period and the promotion (or post) period is the market-wide effect — a shopping festival,
    a season, a category's own festival such as 年货节 for snacks — that the promotion did not cause. The
    promotion's own shop gives the market index; the other shops' rows let promotion_results tell a promoted
    SKU's own drift (its season, its launch ramp) from its category's. -#}
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

products as (
    select * from {{ ref('stg_product_master__products') }}
),

weekday_factors as (
    select * from {{ ref('int_weekday_factors') }}
),

shop_history as (
    select * from {{ ref('int_shop_first_order_dates') }}
),

categories as (
    select distinct category from products
),

touched as (
    select
        promotions.promo_id,
        promotions.shop_id,
        promotion_skus.sku,
        promotions.start_date,
        promotions.end_date + {{ post_days }} as touched_until
    from promotions
    inner join promotion_skus on promotion_skus.promo_id = promotions.promo_id
),

windows as (
    select
        promotions.promo_id,
        promotions.shop_id as promotion_shop_id,
        promotions.start_date,
        promotions.start_date - {{ pre_days }} as window_start,
        promotions.end_date + {{ post_days }} as window_end,
        cast(day as date) as activity_date,
        case
            when cast(day as date) < promotions.start_date then 'pre'
            when cast(day as date) <= promotions.end_date then 'promo'
            else 'post'
        end as period
    from promotions
    cross join unnest(generate_series(
        promotions.start_date - {{ pre_days }},
        promotions.end_date + {{ post_days }},
        interval 1 day
    )) as days (day)
),

-- The control is the whole market less the items it leaves out, so the work grows with the promoted items, not
-- with every promotion-window day times every item sold that day (which grows with the square of the catalogue).

-- every item's units per shop × category × day, accumulated over launch dates: a promotion takes the row of the
-- last launch date old enough for it (an item with no launch date is old enough for every promotion)
market_by_launch_date as (
    select
        item_days.shop_id,
        products.category,
        item_days.order_date,
        coalesce(products.launched_on, date '1900-01-01') as launched_on,
        sum(item_days.units) as units,
        sum(item_days.units_squared) as units_squared
    from item_days
    inner join products on products.sku = item_days.item
    group by 1, 2, 3, 4
),

market_by_launch as (
    select
        shop_id,
        category,
        order_date,
        launched_on,
        sum(units) over by_launch as units,
        sum(units_squared) over by_launch as units_squared
    from market_by_launch_date
    window by_launch as (partition by shop_id, category, order_date order by launched_on)
),

-- The items a promotion leaves out of its control: in each shop, every item a promotion of that shop touched on a
-- day of its window, and its own SKUs in every shop. The first part depends only on the window, which many
-- promotions share (a festival's): it is computed per distinct window, not per promotion (per promotion it grows
-- with the promotions of a festival times their items; at 10 million order lines that spill filled the disk).
spans as (
    select
        promo_id,
        start_date - {{ pre_days }} as window_start,
        end_date + {{ post_days }} as window_end,
        start_date - {{ pre_days }} - {{ var('promo_control_min_age_days') }} as launched_by
    from promotions
),

window_left_out as (
    select distinct
        windows.window_start,
        windows.window_end,
        windows.launched_by,
        touched.shop_id,
        touched.sku
    from (select distinct window_start, window_end, launched_by from spans) as windows
    inner join touched
        on touched.start_date <= windows.window_end
        and touched.touched_until >= windows.window_start
),

-- a promotion's own SKUs in the shops where its window does not leave them out already
own_left_out as (
    select distinct
        spans.promo_id,
        spans.window_start,
        spans.window_end,
        spans.launched_by,
        shops.shop_id,
        touched.sku
    from spans
    inner join touched on touched.promo_id = spans.promo_id
    cross join (select distinct shop_id from item_days) as shops
    where not exists (
        select 1
        from window_left_out
        where window_left_out.window_start = spans.window_start
            and window_left_out.window_end = spans.window_end
            and window_left_out.shop_id = shops.shop_id
            and window_left_out.sku = touched.sku
    )
),

window_left_out_sales as (
    select
        window_left_out.window_start,
        window_left_out.window_end,
        item_days.shop_id,
        products.category,
        item_days.order_date as activity_date,
        sum(item_days.units) as units,
        sum(item_days.units_squared) as units_squared
    from window_left_out
    inner join item_days
        on item_days.item = window_left_out.sku
        and item_days.shop_id = window_left_out.shop_id
        and item_days.order_date between window_left_out.window_start and window_left_out.window_end
    inner join products on products.sku = item_days.item
    where coalesce(products.launched_on, date '1900-01-01') <= window_left_out.launched_by
    group by 1, 2, 3, 4, 5
),

own_left_out_sales as (
    select
        own_left_out.promo_id,
        item_days.shop_id,
        products.category,
        item_days.order_date as activity_date,
        sum(item_days.units) as units,
        sum(item_days.units_squared) as units_squared
    from own_left_out
    inner join item_days
        on item_days.item = own_left_out.sku
        and item_days.shop_id = own_left_out.shop_id
        and item_days.order_date between own_left_out.window_start and own_left_out.window_end
    inner join products on products.sku = item_days.item
    where coalesce(products.launched_on, date '1900-01-01') <= own_left_out.launched_by
    group by 1, 2, 3, 4
),

grid as (
    select
        windows.*,
        shop_history.shop_id,
        categories.category,
        windows.start_date - {{ pre_days }} - {{ var('promo_control_min_age_days') }} as launched_by
    from windows
    cross join shop_history
    cross join categories
    where windows.activity_date >= shop_history.first_order_date
        and windows.activity_date <= {{ as_of_date() }}
),

final as (
    select
        {{ dbt.concat([
            "grid.promo_id", "'|'", "grid.shop_id", "'|'", "grid.category", "'|'",
            "cast(grid.activity_date as varchar)"
        ]) }} as promotion_control_day_id,
        grid.promo_id,
        grid.shop_id,
        grid.shop_id = grid.promotion_shop_id as is_promotion_shop,
        grid.category,
        grid.activity_date,
        grid.period,
        coalesce(weekday_factors.weekday_factor, 1.0) as weekday_factor,
        cast(
            -- DuckDB 1.5.5's as-of join matches a row whose launched_by is null too: no date, no market
            coalesce(case when market.launched_on <= grid.launched_by then market.units end, 0)
            - coalesce(window_left_out_sales.units, 0)
            - coalesce(own_left_out_sales.units, 0) as integer
        ) as control_units,
        cast(
            coalesce(case when market.launched_on <= grid.launched_by then market.units_squared end, 0)
            - coalesce(window_left_out_sales.units_squared, 0)
            - coalesce(own_left_out_sales.units_squared, 0) as integer
        ) as control_units_squared
    from grid
    asof left join market_by_launch as market
        on market.shop_id = grid.shop_id
        and market.category = grid.category
        and market.order_date = grid.activity_date
        and market.launched_on <= grid.launched_by
    left join window_left_out_sales
        on window_left_out_sales.window_start = grid.window_start
        and window_left_out_sales.window_end = grid.window_end
        and window_left_out_sales.shop_id = grid.shop_id
        and window_left_out_sales.category = grid.category
        and window_left_out_sales.activity_date = grid.activity_date
    left join own_left_out_sales
        on own_left_out_sales.promo_id = grid.promo_id
        and own_left_out_sales.shop_id = grid.shop_id
        and own_left_out_sales.category = grid.category
        and own_left_out_sales.activity_date = grid.activity_date
    left join weekday_factors on weekday_factors.iso_weekday = isodow(grid.activity_date)
)

select * from final
