{#- The Python forecast model computes its own "today": it must be the SQL macros' as_of_date() (the var, else the
    build's clock, else now), or the replenishment marts would read a forecast that starts days later (or
    earlier) than the day they are as of, and a build's numbers would depend on the machine's date. -#}
select sku, day_ahead, forecast_date
from {{ ref('int_sku_baseline_forecasts') }}
where forecast_date <> {{ as_of_date() }} + cast(day_ahead - 1 as integer)
