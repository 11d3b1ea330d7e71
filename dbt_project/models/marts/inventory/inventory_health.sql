{#- Inventory health per stocked master SKU, all warehouses together, as of the latest closing stock on or before
    as_of_date (spec "Inventory health"; per warehouse: inventory_health_by_warehouse, which adds up to this).

    on_order          = open purchase-order units not overdue (int_sku_on_order: a line more than var
                        po_overdue_grace_days past its expected date is overdue_quantity instead)
    days_of_cover     = available / daily_demand (null without demand)
    stock_value_cny   = on_hand × moving-average unit cost
    days_since_last_sale = as_of_date − last order date with units sold
    sell_through_30d  = units sold in 30 days / (units sold in 30 days + on_hand)
    turnover_days_90d = average stock value over 90 days / (COGS over 90 days / 90)
    gmroi_90d         = contribution margin over 90 days / average stock value over 90 days (margin of the
                        lines ordered in the window, int_sku_inventory_signals)
    health_status     = macros/inventory_health_status.sql (oversold › stockout › at_risk › dead › overstock ›
                        healthy). Windows and thresholds are dbt vars. -#}
with positions as (
    select * from {{ ref('int_inventory_positions') }}
),

signals as (
    select * from {{ ref('int_sku_inventory_signals') }}
),

per_sku as (
    select
        sku,
        max(stock_date) as stock_date,
        sum(on_hand) as on_hand,
        sum(reserved) as reserved,
        sum(available) as available,
        sum(on_order) as on_order,
        min(next_expected_date) as next_expected_date,
        sum(overdue_quantity) as overdue_quantity,
        sum(overdue_po_lines) as overdue_po_lines,
        min(oldest_overdue_expected_date) as oldest_overdue_expected_date,
        max(unit_cost) as unit_cost,
        sum(stock_value) as stock_value,
        sum(avg_stock_value_90d) as avg_stock_value_90d,
        sum(cogs_90d_cny) as cogs_90d
    from positions
    group by sku
),

measured as (
    select
        per_sku.*,
        signals.product_name,
        signals.category,
        signals.supplier_id,
        signals.lead_time_days,
        signals.daily_demand,
        signals.demand_source,
        signals.last_sale_date,
        signals.units_sold_30d,
        signals.is_unsold,
        signals.listed_quantity,
        signals.ghost_listings,
        signals.ghost_listing,
        case when signals.daily_demand > 0 then per_sku.available / signals.daily_demand end as days_of_cover,
        signals.contribution_margin_90d
    from per_sku
    inner join signals on per_sku.sku = signals.sku
),

final as (
    select
        sku,
        product_name,
        category,
        supplier_id,
        {{ inventory_position_columns() }},
        {{ inventory_value_columns('cogs_90d') }},
        cast(listed_quantity as integer) as listed_quantity,
        cast(ghost_listings as integer) as ghost_listings,
        cast(ghost_listing as boolean) as ghost_listing,
        {{ inventory_status_columns() }},
        -- the best-sellers: 1 = the highest daily demand (ties by SKU); null without demand
        case
            when daily_demand > 0 then cast(row_number() over (order by daily_demand desc, sku) as integer)
        end as demand_rank
    from measured
)

select * from final
