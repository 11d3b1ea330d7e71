{#- One row per stocked master SKU: the chosen forecast model, its backtest accuracy and the forecast demand per
    day over the SKU's lead time (what inventory_health divides available stock by). -#}
with forecasts as (
    select * from {{ ref('demand_forecasts') }}
),

baseline as (
    select * from {{ ref('int_sku_baseline_forecasts') }}
),

demand as (
    select * from {{ ref('int_sku_demand_daily') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

lead_times as (
    select
        products.sku,
        coalesce(products.lead_time_days, suppliers.lead_time_days) as lead_time_days
    from products
    left join suppliers on products.supplier_id = suppliers.supplier_id
),

series as (
    select
        sku,
        any_value(model_name) as model_name,
        any_value(demand_class) as demand_class,
        any_value(sigma) as sigma,
        any_value(wape) as wape,
        any_value(bias) as bias,
        any_value(adi) as adi,
        any_value(clean_days) as clean_days,
        any_value(history_days) as history_days
    from baseline
    group by 1
),

horizon as (
    select
        forecasts.sku,
        -- doubles added in day order: the same last bits in every build (in any order, two SKUs with the same
        -- forecast could rank either way in inventory_health's demand_rank, from one build to the next)
        avg(forecasts.forecast_units order by forecasts.day_ahead) filter (
            where forecasts.day_ahead <= greatest(lead_times.lead_time_days, 1)
        ) as daily_demand,
        sum(forecasts.forecast_units order by forecasts.day_ahead) filter (where forecasts.day_ahead <= 28)
            as forecast_28d_units,
        sum(forecasts.forecast_units order by forecasts.day_ahead) as forecast_horizon_units
    from forecasts
    inner join lead_times on forecasts.sku = lead_times.sku
    group by 1
),

recent as (
    select
        sku,
        avg(units_demanded) as avg_daily_units_28d,
        avg(net_units) as avg_daily_net_units_28d
    from demand
    where demand_date >= {{ as_of_date() }} - {{ var('forecast_average_window_days') }}
    group by 1
),

final as (
    select
        series.sku,
        cast(series.model_name as varchar) as model_name,
        cast(series.demand_class as varchar) as demand_class,
        cast(horizon.daily_demand as double) as daily_demand,
        cast(series.sigma as double) as sigma,
        cast(series.wape as double) as wape,
        cast(series.bias as double) as bias,
        cast(lead_times.lead_time_days as integer) as lead_time_days,
        cast(horizon.forecast_28d_units as double) as forecast_28d_units,
        cast(horizon.forecast_horizon_units as double) as forecast_horizon_units,
        cast(coalesce(recent.avg_daily_units_28d, 0) as double) as avg_daily_units_28d,
        cast(coalesce(recent.avg_daily_net_units_28d, 0) as double) as avg_daily_net_units_28d,
        cast(series.adi as double) as adi,
        cast(series.clean_days as integer) as clean_days,
        cast(series.history_days as integer) as history_days,
        series.demand_class in ('short', 'new') as is_fallback,
        coalesce(series.wape <= {{ var('forecast_reliable_max_wape') }}, false) as is_reliable,
        cast({{ var('forecast_reliable_max_wape') }} as double) as reliable_max_wape,
        {{ as_of_date() }} as as_of_date
    from series
    inner join horizon on series.sku = horizon.sku
    inner join lead_times on series.sku = lead_times.sku
    left join recent on series.sku = recent.sku
)

select * from final
