{#- Stock position per stocked master SKU, all warehouses together, as of the latest WMS snapshot on or before
    as_of_date (spec "Inventory health"):
    on_hand   = the snapshot's units;
    reserved  = units on paid, not yet shipped order lines (status `paid`; kits exploded; refunded units off);
    available = on_hand − reserved (negative = oversold);
    on_order  = int_sku_on_order's, all warehouses together (open lines not overdue; the overdue ones'
                units, lines and oldest expected date beside it). -#}
with products as (
    select * from {{ ref('stg_product_master__products') }}
),

snapshots as (
    select * from {{ ref('stg_wms__stock_snapshots') }}
),

components as (
    select * from {{ ref('int_order_line_components') }}
),

sku_on_order as (
    select * from {{ ref('int_sku_on_order') }}
),

latest_snapshot as (
    select max(snapshot_date) as snapshot_date
    from snapshots
    where snapshot_date <= {{ as_of_date() }}
),

on_hand as (
    select
        snapshots.sku,
        max(snapshots.snapshot_date) as snapshot_date,
        sum(snapshots.on_hand) as on_hand
    from snapshots
    inner join latest_snapshot on snapshots.snapshot_date = latest_snapshot.snapshot_date
    group by 1
),

reserved as (
    select
        sku,
        sum(units - coalesce(refunded_units, 0)) as reserved
    from components
    where order_status = 'paid'
    group by 1
),

on_order as (
    select
        sku,
        sum(on_order) as on_order,
        sum(overdue_quantity) as overdue_quantity,
        sum(overdue_po_lines) as overdue_po_lines,
        min(oldest_overdue_expected_date) as oldest_overdue_expected_date
    from sku_on_order
    group by 1
),

final as (
    select
        products.sku,
        on_hand.snapshot_date,
        cast(coalesce(on_hand.on_hand, 0) as integer) as on_hand,
        cast(greatest(coalesce(reserved.reserved, 0), 0) as integer) as reserved,
        cast(coalesce(on_hand.on_hand, 0) - greatest(coalesce(reserved.reserved, 0), 0) as integer) as available,
        cast(coalesce(on_order.on_order, 0) as integer) as on_order,
        cast(coalesce(on_order.overdue_quantity, 0) as integer) as overdue_quantity,
        cast(coalesce(on_order.overdue_po_lines, 0) as integer) as overdue_po_lines,
        cast(on_order.oldest_overdue_expected_date as date) as oldest_overdue_expected_date
    from products
    left join on_hand on products.sku = on_hand.sku
    left join reserved on products.sku = reserved.sku
    left join on_order on products.sku = on_order.sku
    where not products.is_kit
)

select * from final
