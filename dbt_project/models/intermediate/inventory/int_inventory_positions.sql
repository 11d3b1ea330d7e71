{#- Stock position per stocked master SKU × warehouse as of the latest closing stock on or before as_of_date,
    with the 90-day stock value and COGS that turnover and GMROI need (spec "Inventory health"):
    on_hand   = closing stock (the WMS snapshot);
    reserved  = units on paid, not yet shipped order lines (kits exploded, refunded units off): paid before the
                end of the stock date and shipped after it, or not shipped and still `paid` — today that is status
                `paid`, and a replay (var as_of_date) sees the orders that were waiting then.
                Orders do not say which warehouse will ship them: a SKU's reserved units are split over its
                warehouses in proportion to their on hand (by demand share when nothing is on hand), rounded so
                the warehouses add up to the SKU;
    available = on_hand − reserved (negative = oversold);
    on_order  = ordered − received on open purchase-order lines to the warehouse, not overdue (int_sku_on_order;
                overdue_quantity: the overdue lines' units, counted apart);
    demand_share = the warehouse's share of the SKU's shipping rate: units it shipped over the rebuilt stock
                history (`stock_history_days`) per day it had stock (a warehouse that is out ships nothing, which
                says nothing about its demand); by on hand when nothing shipped, else equal. It splits SKU-level
                demand and sales over warehouses;
    cogs_90d_cny = (units shipped − units returned to stock) × unit cost on the day, over `turnover_days` days,
                from the WMS movements. -#}
{%- set wms_timezone = "'" ~ var('wms_timezone') ~ "'" %}

with stock_daily as (
    select * from {{ ref('int_stock_daily') }}
    where stock_date <= {{ as_of_date() }}
),

components as (
    select * from {{ ref('int_order_line_components') }}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
),

on_order as (
    select * from {{ ref('int_sku_on_order') }}
),

movements as (
    select * from {{ ref('stg_wms__stock_movements') }}
),

unit_costs as (
    select * from {{ ref('int_sku_unit_costs') }}
),

latest as (
    select
        *,
        count(*) over (partition by sku) as warehouses
    from stock_daily
    qualify stock_date = max(stock_date) over ()
),

-- the end of the stock date, local time, as an instant
cutoff as (
    select
        {{ local_day_start(dbt.dateadd('day', 1, 'max(stock_date)'), "'" ~ var('reporting_timezone') ~ "'") }}
            as cutoff_at
    from latest
),

reserved_per_sku as (
    select
        components.sku,
        greatest(sum(components.units - coalesce(components.refunded_units, 0)), 0) as reserved
    from components
    inner join orders on components.order_id = orders.order_id
    cross join cutoff
    where components.paid_at < cutoff.cutoff_at
        and (orders.cancelled_at is null or orders.cancelled_at >= cutoff.cutoff_at)
        and (
            orders.shipped_at >= cutoff.cutoff_at
            or (orders.shipped_at is null and orders.order_status = 'paid')
        )
    group by components.sku
),

window_moves as (
    select
        movements.sku,
        movements.warehouse_id,
        movements.movement_type,
        movements.quantity,
        -- DuckDB 1.5.5's as-of join matches a row whose date is null too: no date, no cost
        case when movements.moved_date >= unit_costs.valid_from then unit_costs.unit_cost end as unit_cost
    from movements
    -- the cost range the day falls in (ranges are contiguous: the latest one starting on or before it)
    asof left join unit_costs
        on movements.sku = unit_costs.sku
        and movements.moved_date >= unit_costs.valid_from
    where movements.movement_type in ('shipment', 'return')
        -- moved_date within [as_of_date − turnover_days, as_of_date), on the instants (macros/local_date.sql)
        and movements.moved_at >= {{ local_day_start(dbt.dateadd('day', -1 * var('turnover_days'), as_of_date()), wms_timezone) }}
        and movements.moved_at < {{ local_day_start(as_of_date(), wms_timezone) }}
),

shipped as (
    select
        sku,
        warehouse_id,
        sum(case when movement_type = 'shipment' then -quantity else 0 end) as units_shipped,
        sum(-quantity * unit_cost) as cogs
    from window_moves
    group by sku, warehouse_id
),

-- shipping rate per day in stock (stock at the day's start or end) over the whole rebuilt history
in_stock_days as (
    select
        sku,
        warehouse_id,
        min(stock_date) as first_date,
        count(*) filter (where closing_on_hand > 0 or previous_on_hand > 0) as days_in_stock
    from (
        select
            *,
            lag(closing_on_hand) over (partition by sku, warehouse_id order by stock_date) as previous_on_hand
        from stock_daily
    ) as days
    group by sku, warehouse_id
),

shipping_rates as (
    select
        in_stock_days.sku,
        in_stock_days.warehouse_id,
        coalesce(sum(-movements.quantity), 0) / nullif(in_stock_days.days_in_stock, 0) as shipping_rate
    from in_stock_days
    left join movements
        on in_stock_days.sku = movements.sku
        and in_stock_days.warehouse_id = movements.warehouse_id
        and movements.movement_type = 'shipment'
        -- moved_date within [first_date, as_of_date]
        and movements.moved_at >= {{ local_day_start('in_stock_days.first_date', wms_timezone) }}
        and movements.moved_at < {{ local_day_start(dbt.dateadd('day', 1, as_of_date()), wms_timezone) }}
    group by in_stock_days.sku, in_stock_days.warehouse_id, in_stock_days.days_in_stock
),

stock_value_90d as (
    select
        sku,
        warehouse_id,
        avg(closing_stock_value) as avg_stock_value
    from stock_daily
    where stock_date >= {{ dbt.dateadd('day', -1 * var('turnover_days'), as_of_date()) }}
        and stock_date < {{ as_of_date() }}
    group by sku, warehouse_id
),

shares as (
    select
        latest.sku,
        latest.warehouse_id,
        latest.stock_date,
        latest.closing_on_hand as on_hand,
        latest.unit_cost,
        latest.closing_stock_value as stock_value,
        coalesce(reserved_per_sku.reserved, 0) as sku_reserved,
        coalesce(shipped.units_shipped, 0) as units_shipped,
        coalesce(shipped.cogs, 0) as cogs,
        coalesce(shipping_rates.shipping_rate, 0) as shipping_rate,
        sum(latest.closing_on_hand) over (partition by latest.sku) as sku_on_hand,
        sum(coalesce(shipping_rates.shipping_rate, 0)) over (partition by latest.sku) as sku_shipping_rate,
        latest.warehouses
    from latest
    left join reserved_per_sku on latest.sku = reserved_per_sku.sku
    left join shipped on latest.sku = shipped.sku and latest.warehouse_id = shipped.warehouse_id
    left join shipping_rates
        on latest.sku = shipping_rates.sku and latest.warehouse_id = shipping_rates.warehouse_id
),

weighted as (
    select
        *,
        case
            when sku_shipping_rate > 0 then cast(shipping_rate as double) / sku_shipping_rate
            when sku_on_hand > 0 then cast(on_hand as double) / sku_on_hand
            else 1.0 / warehouses
        end as demand_share
    from shares
),

reservation_weights as (
    select
        *,
        case when sku_on_hand > 0 then cast(on_hand as double) / sku_on_hand else demand_share end
            as reservation_share
    from weighted
),

reservation_floor as (
    select
        *,
        cast(floor(sku_reserved * reservation_share) as integer) as reserved_floor,
        row_number() over (partition by sku order by reservation_share desc, warehouse_id) as reservation_rank
    from reservation_weights
),

allocated as (
    select
        *,
        reserved_floor + case
            when reservation_rank = 1 then sku_reserved - sum(reserved_floor) over (partition by sku)
            else 0
        end as reserved
    from reservation_floor
),

final as (
    select
        {{ dbt.concat(["allocated.sku", "'|'", "allocated.warehouse_id"]) }} as sku_warehouse_id,
        allocated.sku,
        allocated.warehouse_id,
        allocated.stock_date,
        cast(allocated.on_hand as integer) as on_hand,
        cast(allocated.reserved as integer) as reserved,
        cast(allocated.on_hand - allocated.reserved as integer) as available,
        cast(coalesce(on_order.on_order, 0) as integer) as on_order,
        on_order.next_expected_date,
        cast(coalesce(on_order.overdue_quantity, 0) as integer) as overdue_quantity,
        cast(coalesce(on_order.overdue_po_lines, 0) as integer) as overdue_po_lines,
        on_order.oldest_overdue_expected_date,
        allocated.demand_share,
        allocated.unit_cost,
        allocated.stock_value,
        cast(coalesce(stock_value_90d.avg_stock_value, 0) as decimal(18, 2)) as avg_stock_value_90d,
        cast(allocated.units_shipped as integer) as units_shipped_90d,
        cast(allocated.cogs as decimal(18, 2)) as cogs_90d_cny
    from allocated
    left join on_order on allocated.sku = on_order.sku and allocated.warehouse_id = on_order.warehouse_id
    left join stock_value_90d
        on allocated.sku = stock_value_90d.sku and allocated.warehouse_id = stock_value_90d.warehouse_id
)

select * from final
