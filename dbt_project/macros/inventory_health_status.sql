{#- Spec "Inventory health": the first matching status wins.
    oversold  available < 0
    stockout  available = 0 and demand > 0
    at_risk   days_of_cover < lead time + review period (var review_period_days)
    dead      on hand > 0 and no sale for more than var dead_stock_days days (`is_unsold`)
    overstock days_of_cover > var overstock_days_of_cover
    healthy   otherwise. days_of_cover is null without demand, so neither at_risk nor overstock applies then. -#}
{% macro inventory_health_status(available, daily_demand, days_of_cover, lead_time_days, on_hand, is_unsold) -%}
    case
        when {{ available }} < 0 then 'oversold'
        when {{ available }} = 0 and {{ daily_demand }} > 0 then 'stockout'
        when {{ days_of_cover }} < {{ lead_time_days }} + {{ var('review_period_days') }} then 'at_risk'
        when {{ on_hand }} > 0 and {{ is_unsold }} then 'dead'
        when {{ days_of_cover }} > {{ var('overstock_days_of_cover') }} then 'overstock'
        else 'healthy'
    end
{%- endmacro %}
