{#- What a promotion does to a SKU's demand in one shop, learnt from the promotions that ended before
    as_of_date, and the shop's share of the SKU's units — the forecast adds, on each day a scheduled promotion
    covers, baseline × shop share × lift.
    lift (per SKU × shop)  = Σ units on promotion days / Σ expected units − 1 over its past promotions, where
                             expected = the mean daily units of the promo_baseline_days before the start × days;
                             used when expected ≥ promo_lift_min_baseline_units, else the shop's pooled lift
                             over all its promoted SKUs, else the var promo_default_lift.
    shop_share            = the shop's units of the SKU / all shops' units, over promo_share_window_days.
    One row per stocked SKU × shop that sold it in the share window or has a promotion. -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
),

promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

sales as (
    select
        sku,
        shop_id,
        order_date,
        sum(units) as units
    from components
    where paid_at is not null
        and order_date < {{ as_of_date() }}
    group by 1, 2, 3
),

past_promotion_skus as (
    select
        promotions.promo_id,
        promotions.shop_id,
        promotion_skus.sku,
        promotions.start_date,
        promotions.end_date,
        datediff('day', promotions.start_date, promotions.end_date) + 1 as promo_days
    from promotions
    inner join promotion_skus on promotions.promo_id = promotion_skus.promo_id
    where promotions.end_date < {{ as_of_date() }}
        -- a full pre-period inside the history, else the baseline would be understated
        and promotions.start_date - {{ var('promo_baseline_days', 28) }} >= (select min(order_date) from sales)
),

promotion_outcomes as (
    select
        past_promotion_skus.promo_id,
        past_promotion_skus.shop_id,
        past_promotion_skus.sku,
        coalesce(sum(sales.units) filter (
            where sales.order_date between past_promotion_skus.start_date and past_promotion_skus.end_date
        ), 0) as promo_units,
        coalesce(sum(sales.units) filter (
            where sales.order_date < past_promotion_skus.start_date
        ), 0) / {{ var('promo_baseline_days', 28) }} * max(past_promotion_skus.promo_days) as expected_units
    from past_promotion_skus
    left join sales
        on past_promotion_skus.sku = sales.sku
        and past_promotion_skus.shop_id = sales.shop_id
        and sales.order_date between past_promotion_skus.start_date - {{ var('promo_baseline_days', 28) }}
            and past_promotion_skus.end_date
    group by 1, 2, 3
),

sku_shop_lifts as (
    select
        sku,
        shop_id,
        count(*) as past_promotions,
        sum(promo_units) as promo_units,
        sum(expected_units) as expected_units
    from promotion_outcomes
    group by 1, 2
),

shop_lifts as (
    select
        shop_id,
        sum(promo_units) / nullif(sum(expected_units), 0) - 1 as shop_lift
    from promotion_outcomes
    where expected_units > 0
    group by 1
),

shares as (
    select
        sku,
        shop_id,
        sum(units) / sum(sum(units)) over (partition by sku) as shop_share
    from sales
    where order_date >= {{ as_of_date() }} - {{ var('promo_share_window_days') }}
    group by 1, 2
),

sku_shops as (
    select sku, shop_id from shares
    union
    select promotion_skus.sku, promotions.shop_id
    from promotions
    inner join promotion_skus on promotions.promo_id = promotion_skus.promo_id
),

final as (
    select
        {{ dbt.concat(["sku_shops.sku", "'|'", "sku_shops.shop_id"]) }} as sku_shop_id,
        sku_shops.sku,
        sku_shops.shop_id,
        cast(coalesce(shares.shop_share, 0) as double) as shop_share,
        cast(coalesce(sku_shop_lifts.past_promotions, 0) as integer) as past_promotions,
        cast(case
            when sku_shop_lifts.expected_units >= {{ var('promo_lift_min_baseline_units') }}
                then sku_shop_lifts.promo_units / sku_shop_lifts.expected_units - 1
        end as double) as sku_lift,
        cast(shop_lifts.shop_lift as double) as shop_lift,
        cast(case
            when sku_shop_lifts.expected_units >= {{ var('promo_lift_min_baseline_units') }}
                then sku_shop_lifts.promo_units / sku_shop_lifts.expected_units - 1
            else coalesce(shop_lifts.shop_lift, {{ var('promo_default_lift') }})
        end as double) as expected_lift,
        case
            when sku_shop_lifts.expected_units >= {{ var('promo_lift_min_baseline_units') }} then 'sku'
            when shop_lifts.shop_lift is not null then 'shop'
            else 'default'
        end as lift_source
    from sku_shops
    left join shares
        on sku_shops.sku = shares.sku
        and sku_shops.shop_id = shares.shop_id
    left join sku_shop_lifts
        on sku_shops.sku = sku_shop_lifts.sku
        and sku_shops.shop_id = sku_shop_lifts.shop_id
    left join shop_lifts on sku_shops.shop_id = shop_lifts.shop_id
    where sku_shops.shop_id in (select shop_id from shops)
)

select * from final
