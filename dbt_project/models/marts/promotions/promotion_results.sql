{#- Promotion ROI, one row per promotion (metrics.md "Promotion ROI").
    baseline: per promoted SKU, its units per average day over the pre-period (stock-out days and days another
    promotion touched left out), × the weekday factor of each promotion day — the spec's baseline — and then
    two corrections for what the pre-period cannot know (set promo_market_adjustment: false for the spec's
    plain baseline):
    - the market index of the SKU's category in the shop: how the shop's other items of that category moved
      from the pre-period to the promotion (festivals lift everything; 年货节 lifts snacks; seasons move
      categories), shrunk towards the shop's all-category index by `promo_market_prior_units` pseudo-units so a
      category with few sales does not swing it;
    - the SKU's own drift: how the same SKU sold in the seller's other shops over the same days (where this
      promotion did not run and no other promotion of theirs touched it) against their own pre-period rate ×
      their category market index — a garment's season, a launch ramp, a trend; 1 when no other shop sells it,
      shrunk towards 1 by `promo_drift_prior_units` pseudo-units.
    The post-promotion dip is measured on the whole promotion (summed over its SKUs) over the post days seen
    so far, against the same baseline for those days, valued at the pre-period margin per unit. An index or drift
    with nothing expected (no post days yet, and a prior of 0) is 1, not 0/0 = NaN, which no money column can
    hold (DuckDB 2.0's optimizer happened to skip the failing cast where the column was not read; 1.5 does not). -#}
{%- set adjust = var('promo_market_adjustment') -%}
{%- set market_prior = var('promo_market_prior_units') -%}
{%- set drift_prior = var('promo_drift_prior_units') -%}
with promotions as (
    -- a promotion of a shop not in shopkeep.toml has nothing to measure (its staging test warns)
    select * from {{ ref('stg_product_master__promotions') }}
    where shop_id in (select shop_id from {{ ref('stg_config__shops') }})
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

control_days as (
    select * from {{ ref('int_promotion_control_days') }}
),

all_item_days as (
    select
        *,
        not is_stockout and not is_other_promotion as is_regular
    from {{ ref('int_promotion_item_days') }}
),

-- the promotion's own shop's baseline days per SKU: another shop's pre-period rate is measured on the same days
-- (where regular there too), else a SKU with a season would drift between two differently centred baselines
own_base_days as (
    select
        promo_id,
        sku,
        activity_date
    from all_item_days
    where is_promotion_shop and period = 'pre' and is_regular
),

item_days as (
    select
        all_item_days.*,
        all_item_days.period = 'pre'
        and all_item_days.is_regular
        and own_base_days.sku is not null as is_base_day,
        coalesce(control_days.control_units, 0) as category_units
    from all_item_days
    left join own_base_days
        on own_base_days.promo_id = all_item_days.promo_id
        and own_base_days.sku = all_item_days.sku
        and own_base_days.activity_date = all_item_days.activity_date
    left join control_days
        on control_days.promo_id = all_item_days.promo_id
        and control_days.shop_id = all_item_days.shop_id
        and control_days.category = all_item_days.category
        and control_days.activity_date = all_item_days.activity_date
),

shop_history as (
    select * from {{ ref('int_shop_first_order_dates') }}
),

-- each shop's category markets: control units in each period against what the pre-period rate expects
category_periods as (
    select
        promo_id,
        shop_id,
        category,
        sum(control_units) filter (where period = 'pre') as pre_units,
        sum(control_units_squared) filter (where period = 'pre') as pre_units_squared,
        sum(weekday_factor) filter (where period = 'pre') as pre_weight,
        sum(control_units) filter (where period = 'promo') as promo_units,
        sum(control_units_squared) filter (where period = 'promo') as promo_units_squared,
        sum(weekday_factor) filter (where period = 'promo') as promo_weight,
        sum(control_units) filter (where period = 'post') as post_units,
        sum(weekday_factor) filter (where period = 'post') as post_weight
    from control_days
    group by 1, 2, 3
),

category_expectations as (
    select
        *,
        coalesce(pre_units / nullif(pre_weight, 0) * promo_weight, 0) as promo_expected,
        coalesce(pre_units / nullif(pre_weight, 0) * post_weight, 0) as post_expected
    from category_periods
),

shop_markets as (
    select
        promo_id,
        shop_id,
        coalesce(sum(promo_units) / nullif(sum(promo_expected), 0), 1.0) as promo_index,
        coalesce(sum(post_units) / nullif(sum(post_expected), 0), 1.0) as post_index
    from category_expectations
    group by 1, 2
),

markets as (
    select
        category_expectations.promo_id,
        category_expectations.shop_id,
        category_expectations.category,
        {% if adjust -%}
        (coalesce(category_expectations.promo_units, 0) + {{ market_prior }} * shop_markets.promo_index)
            / nullif(category_expectations.promo_expected + {{ market_prior }}, 0) as market_index,
        (coalesce(category_expectations.post_units, 0) + {{ market_prior }} * shop_markets.post_index)
            / nullif(category_expectations.post_expected + {{ market_prior }}, 0) as post_market_index,
        -- relative variance of the index (clumped counts, both periods)
        coalesce(category_expectations.promo_units_squared, 0)
            / pow(coalesce(category_expectations.promo_units, 0) + {{ market_prior }}, 2)
        + coalesce(category_expectations.pre_units_squared, 0)
            * pow(category_expectations.promo_weight / nullif(category_expectations.pre_weight, 0), 2)
            / pow(category_expectations.promo_expected + {{ market_prior }}, 2) as market_index_log_variance
        {%- else -%}
        1.0 as market_index,
        1.0 as post_market_index,
        0.0 as market_index_log_variance
        {%- endif %}
    from category_expectations
    inner join shop_markets
        on shop_markets.promo_id = category_expectations.promo_id
        and shop_markets.shop_id = category_expectations.shop_id
),

-- per promoted SKU and shop: its regular rate before, and what it did during and after the promotion
per_shop_sku as (
    select
        promo_id,
        shop_id,
        sku,
        category,
        bool_or(is_promotion_shop) as is_promotion_shop,
        sum(units) filter (where is_base_day) as base_units,
        sum(units_squared) filter (where is_base_day) as base_units_squared,
        sum(weekday_factor) filter (where is_base_day) as base_weight,
        count(*) filter (where is_base_day) as base_days,
        sum(contribution_margin_cny) filter (where is_base_day) as base_margin_cny,
        coalesce(sum(units) filter (where period = 'promo'), 0) as promo_units,
        coalesce(sum(units_squared) filter (where period = 'promo'), 0) as promo_units_squared,
        coalesce(sum(weekday_factor) filter (where period = 'promo'), 0) as promo_weight,
        coalesce(sum(contribution_margin_cny) filter (where period = 'promo'), 0) as promo_margin_cny,
        coalesce(sum(merchant_discount_cny) filter (where period = 'promo'), 0) as discount_given_cny,
        coalesce(sum(units) filter (where period = 'post'), 0) as post_units,
        coalesce(sum(weekday_factor) filter (where period = 'post'), 0) as post_weight,
        -- the other shops count only their regular days of each period, against their category's units
        sum(category_units) filter (where is_base_day) as base_category_units,
        coalesce(sum(category_units) filter (where period = 'promo' and is_regular), 0)
            as regular_promo_category_units,
        coalesce(sum(category_units) filter (where period = 'post' and is_regular), 0)
            as regular_post_category_units,
        coalesce(sum(units) filter (where period = 'promo' and is_regular), 0) as regular_promo_units,
        coalesce(sum(units_squared) filter (where period = 'promo' and is_regular), 0)
            as regular_promo_units_squared,
        coalesce(sum(units) filter (where period = 'post' and is_regular), 0) as regular_post_units
    from item_days
    group by 1, 2, 3, 4
),

-- the same SKU in the other shops: what it sold on their regular days of the promotion (and post) period against
-- its share of its category there before (on the own shop's baseline days) × the category's units on those days —
-- day by day, so a festival peak on the days that count is not mistaken for the SKU's own drift
other_shop_expectations as (
    select
        promo_id,
        sku,
        regular_promo_units as promo_units,
        regular_promo_units_squared as promo_units_squared,
        base_units / base_category_units * regular_promo_category_units as promo_expected,
        base_units_squared * pow(regular_promo_category_units / base_category_units, 2) as promo_expected_squared,
        regular_post_units as post_units,
        base_units / base_category_units * regular_post_category_units as post_expected
    from per_shop_sku
    where not is_promotion_shop
        and base_days >= {{ var('promo_drift_min_days') }}
        and base_category_units > 0
),

sku_drifts as (
    select
        promo_id,
        sku,
        {% if adjust -%}
        (sum(promo_units) + {{ drift_prior }}) / nullif(sum(promo_expected) + {{ drift_prior }}, 0) as drift,
        (sum(post_units) + {{ drift_prior }}) / nullif(sum(post_expected) + {{ drift_prior }}, 0) as post_drift,
        sum(promo_units_squared) / pow(sum(promo_units) + {{ drift_prior }}, 2)
            + sum(promo_expected_squared) / pow(sum(promo_expected) + {{ drift_prior }}, 2) as drift_log_variance
        {%- else -%}
        1.0 as drift,
        1.0 as post_drift,
        0.0 as drift_log_variance
        {%- endif %}
    from other_shop_expectations
    group by 1, 2
),

sku_rates as (
    select
        own.*,
        coalesce(own.base_units / nullif(own.base_weight, 0), 0) as base_units_per_day,
        own.base_margin_cny / nullif(own.base_units, 0) as regular_unit_margin_cny,
        own.promo_margin_cny / nullif(own.promo_units, 0) as promo_unit_margin_cny,
        coalesce(markets.market_index, 1.0) as market_index,
        coalesce(markets.post_market_index, 1.0) as post_market_index,
        coalesce(markets.market_index_log_variance, 0) as market_index_log_variance,
        coalesce(sku_drifts.drift, 1.0) as drift,
        coalesce(sku_drifts.post_drift, 1.0) as post_drift,
        coalesce(sku_drifts.drift_log_variance, 0) as drift_log_variance
    from per_shop_sku as own
    left join markets
        on markets.promo_id = own.promo_id
        and markets.shop_id = own.shop_id
        and markets.category = own.category
    left join sku_drifts
        on sku_drifts.promo_id = own.promo_id
        and sku_drifts.sku = own.sku
    where own.is_promotion_shop
),

sku_baselines as (
    select
        *,
        base_units_per_day * promo_weight as plain_baseline_units,
        base_units_per_day * promo_weight * market_index as market_baseline_units,
        base_units_per_day * promo_weight * market_index * drift as baseline_units,
        base_units_per_day * post_weight * post_market_index * post_drift as post_baseline_units
    from sku_rates
),

-- the market index is shared by a category's SKUs: its noise adds up per category, not per SKU
category_baselines as (
    select
        promo_id,
        category,
        sum(baseline_units) as baseline_units,
        max(market_index_log_variance) as market_index_log_variance
    from sku_baselines
    group by 1, 2
),

category_variance as (
    select
        promo_id,
        sum(pow(baseline_units, 2) * market_index_log_variance) as market_variance
    from category_baselines
    group by 1
),

per_promotion as (
    select
        sku_baselines.promo_id,
        count(*) as skus_measured,
        sum(sku_baselines.base_units) as base_units,
        sum(sku_baselines.promo_units) as promo_units,
        sum(sku_baselines.baseline_units) as baseline_units,
        sum(sku_baselines.plain_baseline_units) as plain_baseline_units,
        sum(sku_baselines.market_baseline_units) as market_baseline_units,
        -- relative variances (clumped Poisson counts) of the promo units, of each SKU's pre-period rate, of the
        -- drift and of the category markets, for the interval
        sum(sku_baselines.promo_units_squared) / nullif(pow(sum(sku_baselines.promo_units), 2), 0)
            + (
                sum(
                    pow(sku_baselines.baseline_units, 2)
                    * (
                        sku_baselines.base_units_squared / nullif(pow(sku_baselines.base_units, 2), 0)
                        + sku_baselines.drift_log_variance
                    )
                )
                + max(category_variance.market_variance)
            ) / nullif(pow(sum(sku_baselines.baseline_units), 2), 0) as log_lift_variance,
        sum(sku_baselines.baseline_units * coalesce(sku_baselines.regular_unit_margin_cny, 0))
            as baseline_margin_cny,
        sum(sku_baselines.promo_margin_cny) as promo_margin_cny,
        sum(sku_baselines.discount_given_cny) as discount_given_cny,
        sum(sku_baselines.post_units) as post_units,
        sum(sku_baselines.post_baseline_units) as post_baseline_units,
        sum(sku_baselines.base_margin_cny) / nullif(sum(sku_baselines.base_units), 0) as regular_unit_margin_cny,
        list(sku_baselines.sku order by sku_baselines.sku) filter (where sku_baselines.promo_unit_margin_cny < 0)
            as margin_negative_skus
    from sku_baselines
    left join category_variance on category_variance.promo_id = sku_baselines.promo_id
    group by 1
),

post_days as (
    select
        promo_id,
        count(distinct activity_date) filter (where period = 'post') as post_days_observed
    from control_days
    where is_promotion_shop
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
        per_promotion.market_baseline_units / nullif(per_promotion.plain_baseline_units, 0) as market_index,
        per_promotion.baseline_units / nullif(per_promotion.market_baseline_units, 0) as sku_drift_index,
        per_promotion.promo_units,
        per_promotion.base_units,
        per_promotion.log_lift_variance,
        per_promotion.baseline_units,
        per_promotion.promo_margin_cny,
        per_promotion.baseline_margin_cny,
        per_promotion.discount_given_cny,
        coalesce(post_days.post_days_observed, 0) as post_days_observed,
        per_promotion.post_units,
        per_promotion.post_baseline_units,
        greatest(per_promotion.post_baseline_units - per_promotion.post_units, 0) as post_dip_units,
        per_promotion.regular_unit_margin_cny,
        per_promotion.margin_negative_skus
    from promotions
    left join sku_counts on sku_counts.promo_id = promotions.promo_id
    left join shop_history on shop_history.shop_id = promotions.shop_id
    left join per_promotion on per_promotion.promo_id = promotions.promo_id
    left join post_days on post_days.promo_id = promotions.promo_id
),

formulas as (
    select
        *,
        post_dip_units * coalesce(regular_unit_margin_cny, 0) as post_dip_margin_cny,
        promo_margin_cny - baseline_margin_cny - post_dip_units * coalesce(regular_unit_margin_cny, 0) - spend_cny
            as incremental_profit_cny,
        discount_given_cny + spend_cny as promo_cost_cny,
        -- approximate 95 % interval of the lift, on the log of the ratio (delta method): the counts' noise and
        -- the baseline model's own error (what the corrections leave: a category's mix differs between shops, a
        -- season curves), measured by bench/promotion_lift.py at volumes where noise is negligible
        sqrt(log_lift_variance + pow({{ var('promo_baseline_model_error') }}, 2)) as log_lift_se
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
        cast(round(sku_drift_index, 4) as double) as sku_drift_index,
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
