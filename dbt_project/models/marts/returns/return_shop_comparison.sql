{#- The same master SKU across shops (metrics.md "Returns"): over the orders of the last
    `return_comparison_days` days — leaving out the newest `return_maturity_days`, whose returns are still
    coming — each SKU × shop's return rate and size-return rate against the SKU's other shops together, and
    its rank in its category. "One platform returns 30 % more for size" shows as a large size_return_rate_gap
    and size_rank_in_category = 1; is_return_hotspot marks gaps of at least `return_hotspot_gap` on enough units. -#}
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
        units_sold >= {{ var('return_min_units') }} as has_enough_volume
    from with_others
    inner join products on products.sku = with_others.sku
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
        has_enough_volume,
        cast(case when has_enough_volume then rank() over (
            partition by category, has_enough_volume order by return_rate desc
        ) end as integer) as return_rank_in_category,
        cast(case when has_enough_volume then rank() over (
            partition by category, has_enough_volume order by size_return_rate desc
        ) end as integer) as size_rank_in_category,
        coalesce(
            has_enough_volume
            and other_units_sold >= {{ var('return_min_units') }}
            and size_return_rate - other_shops_size_return_rate >= {{ var('return_hotspot_gap') }},
            false
        ) as is_return_hotspot
    from rates
)

select * from final
