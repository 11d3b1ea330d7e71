{#- The same master SKU across shops (metrics.md "Returns"): over the orders of the last
    `return_comparison_days` days — leaving out the newest `return_maturity_days`, whose returns are still
    coming — each SKU × shop's return rate and size-return rate against the SKU's other shops together, and
    its rank in its category. "One platform returns 30 % more for size" shows as a large size_return_rate_gap
    and size_rank_in_category = 1.

    is_return_hotspot is a stated test, so a manager knows how often it cries wolf. Shops differ as a whole
    (a live-stream shop's buyers return more of everything), and that is not a SKU's problem: the SKU's rate here
    is set against what its other shops' rate predicts for THIS shop — the other shops' rate × shop_factor, how
    much more this shop returns for size on the category's other SKUs. The test is an exact one-sided test of
    "the rate here is above that" (the conditional binomial test of two Poisson rates: size returns are rare and
    a normal approximation overstates small counts), Bonferroni-corrected over every rated SKU × shop (enough
    units here and elsewhere), so that the chance of flagging any SKU × shop that is not unusual is
    at most `return_hotspot_alpha` (5 %) per build; and, so that a real but small difference does not take a
    manager's time, the rate must exceed the prediction by `return_hotspot_gap` (10 points).
    `python -m bench.return_hotspots` measures both rates over many simulated worlds. -#}
{%- set window_end = "(" ~ as_of_date() ~ " - " ~ var('return_maturity_days') ~ ")" -%}
{%- set window_start = "(" ~ as_of_date() ~ " - " ~ var('return_maturity_days') ~ " - " ~ var('return_comparison_days') ~ ")" -%}
with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
        and order_date > {{ window_start }}
        and order_date <= {{ window_end }}
),

returns as (
    select * from {{ ref('int_return_components') }}
    where is_counted
        and is_mapped
        and order_date > {{ window_start }}
        and order_date <= {{ window_end }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

sold as (
    select
        sku,
        shop_id,
        sum(units) as units_sold
    from components
    group by 1, 2
),

returned as (
    select
        sku,
        shop_id,
        sum(units_returned) as units_returned,
        coalesce(sum(units_returned) filter (where reason_code = 'size'), 0) as size_returned
    from returns
    group by 1, 2
),

per_shop as (
    select
        sold.sku,
        sold.shop_id,
        sold.units_sold,
        coalesce(returned.units_returned, 0) as units_returned,
        coalesce(returned.size_returned, 0) as size_returned
    from sold
    left join returned on returned.sku = sold.sku and returned.shop_id = sold.shop_id
),

-- the SKU's other shops pooled: totals of the SKU minus this shop
with_others as (
    select
        *,
        sum(units_sold) over (partition by sku) - units_sold as other_units_sold,
        sum(units_returned) over (partition by sku) - units_returned as other_units_returned,
        sum(size_returned) over (partition by sku) - size_returned as other_size_returned
    from per_shop
),

rates as (
    select
        with_others.*,
        products.category,
        products.product_name,
        units_returned / nullif(units_sold, 0) as return_rate,
        size_returned / nullif(units_sold, 0) as size_return_rate,
        other_units_returned / nullif(other_units_sold, 0) as other_shops_return_rate,
        other_size_returned / nullif(other_units_sold, 0) as other_shops_size_return_rate,
        units_sold >= {{ var('return_min_units') }} as has_enough_volume,
        units_sold >= {{ var('return_min_units') }}
            and other_units_sold >= {{ var('return_min_units') }} as is_rated
    from with_others
    inner join products on products.sku = with_others.sku
),

-- how much more (or less) this shop's buyers return for size than the other shops' on the category's OTHER
-- SKUs: observed over expected size returns, shrunk towards 1 by return_shop_factor_prior pseudo-returns
shop_factors as (
    select
        *,
        (
            sum(size_returned) over (partition by category, shop_id) - size_returned
            + {{ var('return_shop_factor_prior') }}
        ) / (
            (sum(units_sold) over (partition by category, shop_id) - units_sold)
            * coalesce((
                sum(size_returned) over (partition by category) - sum(size_returned) over (partition by category, shop_id)
                - other_size_returned
            ) / nullif(
                sum(units_sold) over (partition by category) - sum(units_sold) over (partition by category, shop_id)
                - other_units_sold, 0
            ), 0)
            + {{ var('return_shop_factor_prior') }}
        ) as shop_factor
    from rates
),

-- the test of H0 "the size-return rate here is shop_factor × the other shops' rate": size returns are rare
-- events, so given the SKU's size returns in all its shops together, the number here is Binomial(total,
-- k n / (k n + n_others)) under H0 (the conditional test of two Poisson rates), and the p-value is its exact
-- upper tail — only for rows that could be hotspots (rated, the minimum effect met)
candidates as (
    select
        *,
        shop_factor * other_shops_size_return_rate as expected_size_return_rate,
        is_rated
            and size_return_rate - shop_factor * other_shops_size_return_rate >= {{ var('return_hotspot_gap') }}
            as meets_minimum_effect,
        shop_factor * units_sold / (shop_factor * units_sold + other_units_sold) as share_under_null
    from shop_factors
),

tested as (
    select
        *,
        case when meets_minimum_effect then {{ binomial_upper_tail(
            "size_returned", "size_returned + other_size_returned", "share_under_null"
        ) }} end as size_return_p_value,
        -- Bonferroni: the family-wise false-positive rate spread over every rated SKU × shop
        {{ var('return_hotspot_alpha') }} / greatest(count(*) filter (where is_rated) over (), 1)
            as hotspot_p_threshold
    from candidates
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "shop_id"]) }} as sku_shop_id,
        sku,
        shop_id,
        category,
        product_name,
        cast({{ window_start }} + 1 as date) as window_start,
        cast({{ window_end }} as date) as window_end,
        cast(units_sold as bigint) as units_sold,
        cast(units_returned as bigint) as units_returned,
        cast(size_returned as bigint) as size_returned,
        cast(return_rate as double) as return_rate,
        cast(size_return_rate as double) as size_return_rate,
        cast(other_units_sold as bigint) as other_shops_units_sold,
        cast(other_shops_return_rate as double) as other_shops_return_rate,
        cast(other_shops_size_return_rate as double) as other_shops_size_return_rate,
        cast(return_rate - other_shops_return_rate as double) as return_rate_gap,
        cast(size_return_rate - other_shops_size_return_rate as double) as size_return_rate_gap,
        cast(shop_factor as double) as shop_size_return_factor,
        cast(expected_size_return_rate as double) as expected_size_return_rate,
        cast(size_return_p_value as double) as size_return_p_value,
        cast(hotspot_p_threshold as double) as hotspot_p_threshold,
        has_enough_volume,
        cast(case when has_enough_volume then rank() over (
            partition by category, has_enough_volume order by return_rate desc
        ) end as integer) as return_rank_in_category,
        cast(case when has_enough_volume then rank() over (
            partition by category, has_enough_volume order by size_return_rate desc
        ) end as integer) as size_rank_in_category,
        coalesce(meets_minimum_effect and size_return_p_value <= hotspot_p_threshold, false) as is_return_hotspot
    from tested
)

select * from final
