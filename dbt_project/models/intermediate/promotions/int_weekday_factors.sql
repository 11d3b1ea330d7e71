{#- How much each weekday sells compared with an average day (1.0), for scaling demand baselines. Measured on
    the whole business (every shop, master-SKU units of paid orders) as each day's units over the centred 7-day
    average around it, then the median per weekday — so festival peaks and promotion days don't bend it.
    Normalised so the seven factors average 1. -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
    where paid_at is not null
),

daily as (
    select
        order_date,
        sum(units) as units
    from components
    where order_date <= {{ as_of_date() }}
    group by 1
),

centred as (
    select
        order_date,
        units,
        avg(units) over (order by order_date rows between 3 preceding and 3 following) as week_average,
        count(*) over (order by order_date rows between 3 preceding and 3 following) as days_in_window
    from daily
),

per_weekday as (
    select
        isodow(order_date) as iso_weekday,
        median(units / week_average) as raw_factor,
        count(*) as days_measured
    from centred
    where days_in_window = 7 and week_average > 0
    group by 1
),

final as (
    select
        cast(iso_weekday as integer) as iso_weekday,
        cast(raw_factor / avg(raw_factor) over () as double) as weekday_factor,
        cast(days_measured as integer) as days_measured
    from per_weekday
)

select * from final
