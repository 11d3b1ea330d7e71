{#- Units on order per master SKU and warehouse: ordered − received on the lines of purchase orders that are still
    open (as the WMS reported them at the last load). Received and cancelled orders contribute nothing. A line more
    than `po_overdue_grace_days` past its expected date is overdue: it no longer counts as incoming (stock that
    should have come weeks ago will not prevent a stock-out), and is counted apart. -#}
with purchase_orders as (
    select * from {{ ref('stg_wms__purchase_orders') }}
),

purchase_order_lines as (
    select * from {{ ref('stg_wms__purchase_order_lines') }}
),

open_lines as (
    select
        purchase_order_lines.sku,
        purchase_orders.warehouse_id,
        purchase_orders.po_number,
        purchase_orders.ordered_date,
        purchase_orders.expected_date,
        greatest(purchase_order_lines.ordered_quantity - purchase_order_lines.received_quantity, 0) as open_quantity,
        coalesce(
            purchase_orders.expected_date + {{ var('po_overdue_grace_days') }} < {{ as_of_date() }}, false
        ) as is_overdue
    from purchase_order_lines
    inner join purchase_orders on purchase_order_lines.po_number = purchase_orders.po_number
    where purchase_orders.po_status = 'open'
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "warehouse_id"]) }} as sku_warehouse_id,
        sku,
        warehouse_id,
        cast(coalesce(sum(open_quantity) filter (where not is_overdue), 0) as integer) as on_order,
        cast(count(*) filter (where not is_overdue) as integer) as open_po_lines,
        min(ordered_date) filter (where not is_overdue) as oldest_open_ordered_date,
        min(expected_date) filter (where not is_overdue) as next_expected_date,
        cast(coalesce(sum(open_quantity) filter (where is_overdue), 0) as integer) as overdue_quantity,
        cast(count(*) filter (where is_overdue) as integer) as overdue_po_lines,
        min(expected_date) filter (where is_overdue) as oldest_overdue_expected_date
    from open_lines
    where open_quantity > 0
    group by sku, warehouse_id
)

select * from final
