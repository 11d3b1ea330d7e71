{#- Units on order per master SKU and warehouse: ordered − received on the lines of purchase orders that are still
    open (as the WMS reported them at the last load). Received and cancelled orders contribute nothing. -#}
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
        greatest(purchase_order_lines.ordered_quantity - purchase_order_lines.received_quantity, 0) as open_quantity
    from purchase_order_lines
    inner join purchase_orders on purchase_order_lines.po_number = purchase_orders.po_number
    where purchase_orders.po_status = 'open'
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "warehouse_id"]) }} as sku_warehouse_id,
        sku,
        warehouse_id,
        cast(sum(open_quantity) as integer) as on_order,
        cast(count(*) as integer) as open_po_lines,
        min(ordered_date) as oldest_open_ordered_date,
        min(expected_date) as next_expected_date
    from open_lines
    where open_quantity > 0
    group by sku, warehouse_id
)

select * from final
