{#- Sales and a simple demand rate per stocked master SKU, in master-SKU units (kits exploded), as of
    as_of_date ("today"; windows are the N full days before it). Net units = paid units − refunded units.

    avg_daily_demand, the fallback where no forecast exists: mean net units per day over the last
    `demand_average_days` days — counting, when `demand_excludes_stockout_days`, only in-stock days (closing stock
    > 0 in all warehouses together on the day and the day before, on or after launch), the last
    `demand_average_days` of them within `demand_lookback_days`: sales on a stock-out day show what was there,
    not what was wanted. -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
        and order_status != 'cancelled'
),

products as (
    select * from {{ ref('stg_product_master__products') }}
    where not is_kit
),

stock_daily as (
    select * from {{ ref('int_stock_daily') }}
),

daily_sales as (
    select
        sku,
        order_date,
        sum(units) as units,
        sum(units - coalesce(refunded_units, 0)) as net_units
    from components
    where order_date < {{ as_of_date() }}
    group by sku, order_date
),

stock_total as (
    select
        sku,
        stock_date,
        sum(closing_on_hand) as closing_on_hand,
        lag(sum(closing_on_hand)) over (partition by sku order by stock_date) as previous_closing_on_hand
    from stock_daily
    group by sku, stock_date
),

lookback_days as (
    select
        products.sku,
        products.launched_on,
        days.day
    from products
    cross join (
        select {{ date_series(
            dbt.dateadd('day', -1 * var('demand_lookback_days'), as_of_date()),
            dbt.dateadd('day', -1, as_of_date())
        ) }} as day
    ) as days
),

day_flags as (
    select
        lookback_days.sku,
        lookback_days.day,
        coalesce(daily_sales.net_units, 0) as net_units,
        -- a day without stock data (before the rebuilt history, or after the latest snapshot) counts as in stock
        (stock_total.closing_on_hand is null or stock_total.closing_on_hand > 0)
            and coalesce(stock_total.previous_closing_on_hand, 1) > 0
            and lookback_days.day >= coalesce(lookback_days.launched_on, lookback_days.day) as is_in_stock,
        lookback_days.day >= {{ dbt.dateadd('day', -1 * var('demand_average_days'), as_of_date()) }} as is_recent
    from lookback_days
    left join daily_sales on lookback_days.sku = daily_sales.sku and lookback_days.day = daily_sales.order_date
    left join stock_total on lookback_days.sku = stock_total.sku and lookback_days.day = stock_total.stock_date
),

averaging_days as (
    select *
    from day_flags
    {% if var('demand_excludes_stockout_days') %}
    where is_in_stock
    qualify row_number() over (partition by sku order by day desc) <= {{ var('demand_average_days') }}
    {% else %}
    where is_recent
    {% endif %}
),

demand as (
    select
        sku,
        count(*) as demand_days,
        sum(net_units) as demand_units
    from averaging_days
    group by sku
),

sales_summary as (
    select
        sku,
        max(case when units > 0 then order_date end) as last_sale_date,
        sum(case when order_date >= {{ dbt.dateadd('day', -1 * var('sell_through_days'), as_of_date()) }}
            then net_units else 0 end) as units_sold_30d,
        sum(case when order_date >= {{ dbt.dateadd('day', -1 * var('turnover_days'), as_of_date()) }}
            then net_units else 0 end) as units_sold_90d
    from daily_sales
    group by sku
),

first_stock as (
    select sku, min(stock_date) as first_stocked_date
    from stock_total
    where closing_on_hand > 0
    group by sku
),

final as (
    select
        products.sku,
        sales_summary.last_sale_date,
        cast(coalesce(sales_summary.units_sold_30d, 0) as integer) as units_sold_30d,
        cast(coalesce(sales_summary.units_sold_90d, 0) as integer) as units_sold_90d,
        cast(coalesce(demand.demand_days, 0) as integer) as demand_days,
        cast(coalesce(demand.demand_units, 0) as integer) as demand_units,
        cast(coalesce(demand.demand_units, 0) as double) / nullif(demand.demand_days, 0) as avg_daily_demand,
        first_stock.first_stocked_date
    from products
    left join sales_summary on products.sku = sales_summary.sku
    left join demand on products.sku = demand.sku
    left join first_stock on products.sku = first_stock.sku
)

select * from final
