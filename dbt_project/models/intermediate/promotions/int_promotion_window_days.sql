{#- One row per promotion × shop × promoted SKU × local day of its measurement window: the `pre` period (the
    `promo_baseline_days` days before the start), the `promo` days and the `post` period (`promo_post_days` days
    after the end), limited to days the warehouse has orders for (from the shop's first order to as_of_date).
    Every shop of the seller has rows, not only the promotion's (int_promotion_item_days adds what sold). -#}
{%- set pre_days = var('promo_baseline_days') -%}
{%- set post_days = var('promo_post_days') -%}
with promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

shop_history as (
    select * from {{ ref('int_shop_first_order_dates') }}
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
        windows.promo_id,
        shop_history.shop_id,
        shop_history.shop_id = windows.promotion_shop_id as is_promotion_shop,
        windows.sku,
        windows.activity_date,
        windows.period
    from windows
    cross join shop_history
    where windows.activity_date >= shop_history.first_order_date
        and windows.activity_date <= {{ as_of_date() }}
)

select * from final
