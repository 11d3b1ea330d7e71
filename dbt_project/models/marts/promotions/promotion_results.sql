{#- Promotion ROI, one row per promotion (metrics.md "Promotion ROI").
    baseline: per promoted SKU, its units per average day over the pre-period (stock-out days and days another
    promotion touched left out), × the weekday factor of each promotion day, × the market index (how the
    shop's other items moved from the pre-period to the promotion: festivals and seasons lift everything, not
    only the promotion) — set promo_market_adjustment: false for the plain pre-period baseline.
    The post-promotion dip is measured on the whole promotion (summed over its SKUs) over the post days seen
    so far, valued at the pre-period margin per unit. -#}
with promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

item_days as (
    select * from {{ ref('int_promotion_item_days') }}
),

control_days as (
    select * from {{ ref('int_promotion_control_days') }}
),

shop_history as (
    select
        shop_id,
        min(order_date) as first_order_date
    from {{ ref('int_orders_unified') }}
    group by 1
),

-- per promoted SKU: its pre-period rate and margin, what it did during and after the promotion
per_sku as (
    select
        promo_id,
        sku,
        sum(units) filter (where period = 'pre' and not is_stockout and not is_other_promotion) as base_units,
        sum(units_squared) filter (
            where period = 'pre' and not is_stockout and not is_other_promotion
        ) as base_units_squared,
        sum(weekday_factor) filter (
            where period = 'pre' and not is_stockout and not is_other_promotion
        ) as base_weight,
        sum(contribution_margin_cny) filter (
            where period = 'pre' and not is_stockout and not is_other_promotion
        ) as base_margin_cny,
        coalesce(sum(units) filter (where period = 'promo'), 0) as promo_units,
        coalesce(sum(units_squared) filter (where period = 'promo'), 0) as promo_units_squared,
        coalesce(sum(weekday_factor) filter (where period = 'promo'), 0) as promo_weight,
        coalesce(sum(contribution_margin_cny) filter (where period = 'promo'), 0) as promo_margin_cny,
        coalesce(sum(merchant_discount_cny) filter (where period = 'promo'), 0) as discount_given_cny,
        coalesce(sum(units) filter (where period = 'post'), 0) as post_units,
        coalesce(sum(weekday_factor) filter (where period = 'post'), 0) as post_weight
    from item_days
    group by 1, 2
),

sku_rates as (
    select
        *,
        coalesce(base_units / nullif(base_weight, 0), 0) as base_units_per_day,
        base_margin_cny / nullif(base_units, 0) as regular_unit_margin_cny,
        promo_margin_cny / nullif(promo_units, 0) as promo_unit_margin_cny
    from per_sku
),

-- how the shop's other items moved: units per average day in each period over the pre-period's
control_periods as (
    select
        promo_id,
        sum(control_units) filter (where period = 'pre')
            / nullif(sum(weekday_factor) filter (where period = 'pre'), 0) as pre_rate,
        sum(control_units) filter (where period = 'promo')
            / nullif(sum(weekday_factor) filter (where period = 'promo'), 0) as promo_rate,
        sum(control_units) filter (where period = 'post')
            / nullif(sum(weekday_factor) filter (where period = 'post'), 0) as post_rate,
        count(*) filter (where period = 'post') as post_days_observed,
        -- relative variance of the promo/pre ratio of the control units (clumped counts)
        sum(control_units_squared) filter (where period = 'promo')
            / nullif(pow(sum(control_units) filter (where period = 'promo'), 2), 0)
        + sum(control_units_squared) filter (where period = 'pre')
            / nullif(pow(sum(control_units) filter (where period = 'pre'), 2), 0) as market_index_log_variance
    from control_days
    group by 1
),

market as (
    select
        promo_id,
        post_days_observed,
        {% if var('promo_market_adjustment') -%}
        coalesce(promo_rate / nullif(pre_rate, 0), 1.0) as market_index,
        coalesce(post_rate / nullif(pre_rate, 0), 1.0) as post_market_index,
        coalesce(market_index_log_variance, 0) as market_index_log_variance
        {%- else -%}
        1.0 as market_index,
        1.0 as post_market_index,
        0.0 as market_index_log_variance
        {%- endif %}
    from control_periods
),

per_promotion as (
    select
        sku_rates.promo_id,
        count(*) as skus_measured,
        sum(sku_rates.base_units) as base_units,
        sum(sku_rates.promo_units) as promo_units,
        -- relative variances (clumped Poisson counts) of promo units and of the baseline, for the interval
        sum(sku_rates.promo_units_squared) / nullif(pow(sum(sku_rates.promo_units), 2), 0)
            + sum(pow(sku_rates.promo_weight / nullif(sku_rates.base_weight, 0), 2) * sku_rates.base_units_squared)
            / nullif(pow(sum(sku_rates.base_units_per_day * sku_rates.promo_weight), 2), 0)
            + max(market.market_index_log_variance) as log_lift_variance,
        sum(sku_rates.base_units_per_day * sku_rates.promo_weight * market.market_index) as baseline_units,
        sum(
            sku_rates.base_units_per_day * sku_rates.promo_weight * market.market_index
            * coalesce(sku_rates.regular_unit_margin_cny, 0)
        ) as baseline_margin_cny,
        sum(sku_rates.promo_margin_cny) as promo_margin_cny,
        sum(sku_rates.discount_given_cny) as discount_given_cny,
        sum(sku_rates.post_units) as post_units,
        sum(sku_rates.base_units_per_day * sku_rates.post_weight * market.post_market_index) as post_baseline_units,
        sum(sku_rates.base_margin_cny) / nullif(sum(sku_rates.base_units), 0) as regular_unit_margin_cny,
        max(market.market_index) as market_index,
        max(market.post_days_observed) as post_days_observed,
        list(sku_rates.sku order by sku_rates.sku) filter (where sku_rates.promo_unit_margin_cny < 0)
            as margin_negative_skus
    from sku_rates
    inner join market on market.promo_id = sku_rates.promo_id
    group by 1
),

sku_counts as (
    select
        promo_id,
        count(*) as sku_count
    from promotion_skus
    group by 1
),

measured as (
    select
        promotions.*,
        coalesce(sku_counts.sku_count, 0) as sku_count,
        promotions.end_date - promotions.start_date + 1 as promo_days,
        case
            when {{ as_of_date() }} < promotions.start_date then 'scheduled'
            when {{ as_of_date() }} <= promotions.end_date then 'running'
            else 'finished'
        end as status,
        promotions.start_date - {{ var('promo_baseline_days') }} >= shop_history.first_order_date
            as has_full_baseline,
        per_promotion.market_index,
        per_promotion.promo_units,
        per_promotion.base_units,
        per_promotion.log_lift_variance,
        per_promotion.baseline_units,
        per_promotion.promo_margin_cny,
        per_promotion.baseline_margin_cny,
        per_promotion.discount_given_cny,
        coalesce(per_promotion.post_days_observed, 0) as post_days_observed,
        per_promotion.post_units,
        per_promotion.post_baseline_units,
        greatest(per_promotion.post_baseline_units - per_promotion.post_units, 0) as post_dip_units,
        per_promotion.regular_unit_margin_cny,
        per_promotion.margin_negative_skus
    from promotions
    left join sku_counts on sku_counts.promo_id = promotions.promo_id
    left join shop_history on shop_history.shop_id = promotions.shop_id
    left join per_promotion on per_promotion.promo_id = promotions.promo_id
),

formulas as (
    select
        *,
        post_dip_units * coalesce(regular_unit_margin_cny, 0) as post_dip_margin_cny,
        promo_margin_cny - baseline_margin_cny - post_dip_units * coalesce(regular_unit_margin_cny, 0) - spend_cny
            as incremental_profit_cny,
        discount_given_cny + spend_cny as promo_cost_cny,
        -- approximate 95 % interval of the lift, on the log of the ratio (delta method)
        sqrt(log_lift_variance) as log_lift_se
    from measured
),

final as (
    select
        promo_id,
        shop_id,
        promo_name,
        start_date,
        end_date,
        cast(promo_days as integer) as promo_days,
        status,
        cast(sku_count as integer) as sku_count,
        discount_pct,
        spend_cny,
        has_full_baseline,
        cast(round(market_index, 4) as double) as market_index,
        cast(promo_units as bigint) as promo_units,
        cast(round(baseline_units, 2) as double) as baseline_units,
        cast(round(promo_units - baseline_units, 2) as double) as incremental_units,
        cast(round(promo_units / nullif(baseline_units, 0) - 1, 4) as double) as lift_pct,
        cast(round((promo_units / nullif(baseline_units, 0)) * exp(-1.96 * log_lift_se) - 1, 4) as double)
            as lift_pct_low,
        cast(round((promo_units / nullif(baseline_units, 0)) * exp(1.96 * log_lift_se) - 1, 4) as double)
            as lift_pct_high,
        cast(promo_margin_cny as decimal(18, 2)) as promo_margin_cny,
        cast(baseline_margin_cny as decimal(18, 2)) as baseline_margin_cny,
        cast(post_days_observed as integer) as post_days_observed,
        cast(post_units as bigint) as post_units,
        cast(round(post_baseline_units, 2) as double) as post_baseline_units,
        cast(round(post_dip_units, 2) as double) as post_dip_units,
        cast(post_dip_margin_cny as decimal(18, 2)) as post_dip_margin_cny,
        cast(incremental_profit_cny as decimal(18, 2)) as incremental_profit_cny,
        cast(discount_given_cny as decimal(18, 2)) as discount_given_cny,
        cast(promo_cost_cny as decimal(18, 2)) as promo_cost_cny,
        cast(round(incremental_profit_cny / nullif(promo_cost_cny, 0), 4) as double) as roi,
        coalesce(incremental_profit_cny < 0, false) as loss_making,
        coalesce(len(margin_negative_skus) > 0, false) as margin_negative_sku,
        coalesce(margin_negative_skus, []) as margin_negative_skus
    from formulas
)

select * from final
