{#- The inventory ratios of spec/metrics.md "Inventory health", written once for inventory_health (per SKU) and
    inventory_health_by_warehouse (per SKU and warehouse). Each returns a double; null where the denominator is 0. -#}

{#- sell-through = units sold in the window / (units sold in the window + on hand) -#}
{% macro sell_through(units_sold, on_hand) -%}
    cast({{ units_sold }} / nullif({{ units_sold }} + {{ on_hand }}, 0) as double)
{%- endmacro %}

{#- turnover days = average stock value / (COGS over var turnover_days days / turnover_days) -#}
{% macro turnover_days(avg_stock_value, cogs) -%}
    cast({{ avg_stock_value }} / nullif({{ cogs }} / {{ var('turnover_days') }}, 0) as double)
{%- endmacro %}

{#- GMROI = contribution margin over the window / average stock value over the window -#}
{% macro gmroi(contribution_margin, avg_stock_value) -%}
    cast({{ contribution_margin }} / nullif({{ avg_stock_value }}, 0) as double)
{%- endmacro %}
