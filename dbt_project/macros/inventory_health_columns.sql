{#- The columns inventory_health (per SKU) and inventory_health_by_warehouse (per SKU and warehouse) share, typed
    once, in the order both marts list them: the stock position, then demand, value and the ratios
    (macros/inventory_ratios.sql), then the status. A model lists its own key columns around them. -#}

{% macro inventory_position_columns() -%}
        cast(stock_date as date) as stock_date,
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(on_hand as integer) as on_hand,
        cast(reserved as integer) as reserved,
        cast(available as integer) as available,
        cast(on_order as integer) as on_order,
        cast(next_expected_date as date) as next_expected_date,
        cast(overdue_quantity as integer) as overdue_quantity,
        cast(overdue_po_lines as integer) as overdue_po_lines,
        cast(oldest_overdue_expected_date as date) as oldest_overdue_expected_date
{%- endmacro %}

{#- `units_sold_type`: integer per SKU; double per warehouse (a SKU's units are shared out by demand_share). -#}
{% macro inventory_value_columns(cogs_90d, units_sold_type='integer') -%}
        cast(daily_demand as double) as daily_demand,
        cast(demand_source as varchar) as demand_source,
        cast(days_of_cover as double) as days_of_cover,
        cast(unit_cost as decimal(18, 4)) as unit_cost,
        cast(stock_value as decimal(18, 2)) as stock_value_cny,
        cast(last_sale_date as date) as last_sale_date,
        cast({{ dbt.datediff('last_sale_date', as_of_date(), 'day') }} as integer) as days_since_last_sale,
        cast(units_sold_30d as {{ units_sold_type }}) as units_sold_30d,
        {{ sell_through('units_sold_30d', 'on_hand') }} as sell_through_30d,
        cast(avg_stock_value_90d as decimal(18, 2)) as avg_stock_value_90d_cny,
        cast({{ cogs_90d }} as decimal(18, 2)) as cogs_90d_cny,
        {{ turnover_days('avg_stock_value_90d', cogs_90d) }} as turnover_days_90d,
        cast(contribution_margin_90d as decimal(18, 2)) as contribution_margin_90d_cny,
        {{ gmroi('contribution_margin_90d', 'avg_stock_value_90d') }} as gmroi_90d
{%- endmacro %}

{% macro inventory_status_columns() -%}
        cast(lead_time_days as integer) as lead_time_days,
        cast({{ var('review_period_days') }} as integer) as review_period_days,
        cast({{ inventory_health_status(
            'available', 'daily_demand', 'days_of_cover', 'lead_time_days', 'on_hand', 'is_unsold'
        ) }} as varchar) as health_status
{%- endmacro %}
