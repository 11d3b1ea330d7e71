{#- Inventory health per stocked master SKU × warehouse (the SKU totals are inventory_health). Measures as there;
    what orders and forecasts only know per SKU is split by the warehouse's demand share
    (int_inventory_positions): daily_demand and units sold. Sales dates, lead time, the dead-stock test and ghost
    listings are the SKU's (channels list a SKU, not a warehouse). COGS and stock value are the warehouse's own;
    the SKU's 90-day contribution margin goes to its warehouses by their share of its COGS (by demand share when
    it had none), so gmroi_90d compares each warehouse's margin with its own stock. stock_counted_until: the end
    of the stock date in the WMS's timezone, the instant up to which on_hand counts movements (stock sync adds
    the movements after it, writeback/stock/sync.py). -#}
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
        {{ inventory_position_columns() }},
        {{ local_day_start(dbt.dateadd('day', 1, 'stock_date'), "'" ~ var('wms_timezone') ~ "'") }}
            as stock_counted_until,
        cast(demand_share as double) as demand_share,
        {{ inventory_value_columns('cogs_90d_cny', units_sold_type='double') }},
        cast(ghost_listing as boolean) as ghost_listing,
        {{ inventory_status_columns() }}
    from measured
)

select * from final
