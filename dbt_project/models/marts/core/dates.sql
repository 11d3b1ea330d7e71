{#- The calendar: one row per local date from the first order to 60 days past as_of_date (so forecasts and
    scheduled promotions have dates to join to), with the comparison dates the dashboards use.
    is_return_maturing: one of the newest var return_maturity_days days up to as_of_date — its orders' refunds are
    still coming, so a refund rate over it is not final and is not compared. -#}
with bounds as (
    select
        coalesce(min(order_date), {{ as_of_date() }}) as first_date,
        {{ as_of_date() }} + interval 60 day as last_date
    from {{ ref('int_orders_unified') }}
),

days as (
    select cast(range as date) as date_day
    from bounds, range(bounds.first_date, bounds.last_date + interval 1 day, interval 1 day)
),

final as (
    select
        date_day,
        cast(date_trunc('week', date_day) as date) as week_start,
        cast(date_trunc('month', date_day) as date) as month_start,
        cast(extract('isodow' from date_day) as integer) as iso_day_of_week,
        extract('isodow' from date_day) in (6, 7) as is_weekend,
        cast(date_day - interval 7 day as date) as same_day_last_week,
        cast(date_day - interval 364 day as date) as same_weekday_last_year,
        date_day <= {{ as_of_date() }} as is_past,
        date_day <= {{ as_of_date() }}
            and date_day > {{ as_of_date() }} - {{ var('return_maturity_days') }} as is_return_maturing
    from days
)

select * from final
