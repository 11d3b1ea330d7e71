{#- Inventory health per stocked master SKU × warehouse (the SKU totals are inventory_health). Measures as there;
    what orders and forecasts only know per SKU is split by the warehouse's demand share
    (int_inventory_positions): daily_demand and units sold. Sales dates, lead time, the dead-stock test and ghost
    listings are the SKU's (channels list a SKU, not a warehouse). COGS and stock value are the warehouse's own;
    the SKU's 90-day contribution margin goes to its warehouses by their share of its COGS (by demand share when
    it had none), so gmroi_90d compares each warehouse's margin with its own stock. -#}
with positions as (
    select * from {{ ref('int_inventory_positions') }}
),

signals as (
    select * from {{ ref('int_sku_inventory_signals') }}
),

measured as (
    select
        positions.*,
        signals.product_name,
        signals.category,
        signals.supplier_id,
        signals.lead_time_days,
        signals.daily_demand * positions.demand_share as daily_demand,
        signals.demand_source,
        signals.last_sale_date,
        signals.units_sold_30d * positions.demand_share as units_sold_30d,
        signals.is_unsold,
        signals.ghost_listing,
        case
            when signals.daily_demand * positions.demand_share > 0
                then positions.available / (signals.daily_demand * positions.demand_share)
        end as days_of_cover,
        signals.contribution_margin_90d * case
            when sum(positions.cogs_90d_cny) over (partition by positions.sku) != 0
                then positions.cogs_90d_cny / sum(positions.cogs_90d_cny) over (partition by positions.sku)
            else positions.demand_share
        end as contribution_margin_90d
    from positions
    inner join signals on positions.sku = signals.sku
),

final as (
    select
        sku_warehouse_id,
        sku,
        warehouse_id,
        product_name,
        category,
        supplier_id,
        cast(stock_date as date) as stock_date,
        cast({{ as_of_date() }} as date) as as_of_date,
        cast(on_hand as integer) as on_hand,
        cast(reserved as integer) as reserved,
        cast(available as integer) as available,
        cast(on_order as integer) as on_order,
        cast(next_expected_date as date) as next_expected_date,
        cast(overdue_quantity as integer) as overdue_quantity,
        cast(overdue_po_lines as integer) as overdue_po_lines,
        cast(oldest_overdue_expected_date as date) as oldest_overdue_expected_date,
        cast(demand_share as double) as demand_share,
        cast(daily_demand as double) as daily_demand,
        cast(demand_source as varchar) as demand_source,
        cast(days_of_cover as double) as days_of_cover,
        cast(unit_cost as decimal(18, 4)) as unit_cost,
        cast(stock_value as decimal(18, 2)) as stock_value_cny,
        cast(last_sale_date as date) as last_sale_date,
        cast({{ dbt.datediff('last_sale_date', as_of_date(), 'day') }} as integer) as days_since_last_sale,
        cast(units_sold_30d as double) as units_sold_30d,
        {{ sell_through('units_sold_30d', 'on_hand') }} as sell_through_30d,
        cast(avg_stock_value_90d as decimal(18, 2)) as avg_stock_value_90d_cny,
        cast(cogs_90d_cny as decimal(18, 2)) as cogs_90d_cny,
        {{ turnover_days('avg_stock_value_90d', 'cogs_90d_cny') }} as turnover_days_90d,
        cast(contribution_margin_90d as decimal(18, 2)) as contribution_margin_90d_cny,
        {{ gmroi('contribution_margin_90d', 'avg_stock_value_90d') }} as gmroi_90d,
        cast(ghost_listing as boolean) as ghost_listing,
        cast(lead_time_days as integer) as lead_time_days,
        cast({{ var('review_period_days') }} as integer) as review_period_days,
        cast({{ inventory_health_status(
            'available', 'daily_demand', 'days_of_cover', 'lead_time_days', 'on_hand', 'is_unsold'
        ) }} as varchar) as health_status
    from measured
)

select * from final
