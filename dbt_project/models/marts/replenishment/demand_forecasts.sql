{#- Daily demand forecast per master SKU for forecast_horizon_days days from as_of_date: the statistical
    baseline (int_sku_baseline_forecasts: model chosen per series by backtest) plus, on days a scheduled
    promotion covers the SKU in a shop, baseline × that shop's share of the SKU × the expected lift. -#}
with baseline as (
    select * from {{ ref('int_sku_baseline_forecasts') }}
),

lifts as (
    select * from {{ ref('int_sku_shop_promo_lifts') }}
),

promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

scheduled as (
    select
        promotions.promo_id,
        promotions.shop_id,
        promotion_skus.sku,
        promotions.start_date,
        promotions.end_date
    from promotions
    inner join promotion_skus on promotions.promo_id = promotion_skus.promo_id
    where promotions.end_date >= {{ as_of_date() }}
),

promo_lift_by_day as (
    select
        baseline.sku,
        baseline.forecast_date,
        sum(baseline.baseline_units * coalesce(lifts.shop_share, 0)
            * coalesce(lifts.expected_lift, {{ var('promo_default_lift') }})) as promo_lift_units,
        string_agg(scheduled.promo_id, ',' order by scheduled.promo_id) as promo_ids
    from baseline
    inner join scheduled
        on baseline.sku = scheduled.sku
        and baseline.forecast_date between scheduled.start_date and scheduled.end_date
    left join lifts
        on scheduled.sku = lifts.sku
        and scheduled.shop_id = lifts.shop_id
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(["baseline.sku", "'|'", "cast(baseline.forecast_date as varchar)"]) }} as forecast_id,
        baseline.sku,
        cast(baseline.forecast_date as date) as forecast_date,
        cast(baseline.day_ahead as integer) as day_ahead,
        cast(baseline.baseline_units as double) as baseline_units,
        cast(coalesce(promo_lift_by_day.promo_lift_units, 0) as double) as promo_lift_units,
        cast(baseline.baseline_units + coalesce(promo_lift_by_day.promo_lift_units, 0) as double) as forecast_units,
        promo_lift_by_day.promo_ids,
        cast(baseline.model_name as varchar) as model_name,
        cast(baseline.demand_class as varchar) as demand_class,
        cast(baseline.sigma as double) as sigma,
        cast(baseline.wape as double) as wape,
        cast(baseline.bias as double) as bias
    from baseline
    left join promo_lift_by_day
        on baseline.sku = promo_lift_by_day.sku
        and baseline.forecast_date = promo_lift_by_day.forecast_date
)

select * from final
