{#- Units on order per master SKU and warehouse: ordered − received on the lines of purchase orders that are still
    open (as the WMS reported them at the last load). Received and cancelled orders contribute nothing. A line more
    than `po_overdue_grace_days` past its expected date is overdue: it no longer counts as incoming (stock that
    should have come weeks ago will not prevent a stock-out), and is counted apart.
    shopkeep's own orders (writeback/purchasing) count too once sent, until the WMS lists the order itself (then
    the WMS's line counts, never both): the units the supplier confirmed (ordered, until it confirmed) less the
    units the WMS received against the PO number, expected on the supplier's promised date (else the draft's). -#}
with purchase_orders as (
    select * from {{ ref('stg_wms__purchase_orders') }}
),

purchase_order_lines as (
    select * from {{ ref('stg_wms__purchase_order_lines') }}
),

own_lines as (
    select * from {{ ref('stg_ops__purchase_order_lines') }}
),

receipts as (
    select po_number, sku, sum(quantity) as received_quantity
    from {{ ref('stg_wms__receipts') }}
    group by po_number, sku
),

own_open_lines as (
    select
        own_lines.sku,
        own_lines.warehouse_id,
        own_lines.po_number,
        own_lines.ordered_date,
        coalesce(own_lines.promised_date, own_lines.expected_date) as expected_date,
        greatest(
            coalesce(own_lines.confirmed_quantity, own_lines.ordered_quantity) - coalesce(receipts.received_quantity, 0),
            0
        ) as open_quantity
    from own_lines
    left join receipts on own_lines.po_number = receipts.po_number and own_lines.sku = receipts.sku
    where own_lines.po_state in ('sent', 'confirmed', 'partially_received')
        and own_lines.warehouse_id is not null
        and own_lines.po_number not in (select po_number from purchase_orders)
),

wms_open_lines as (
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

open_lines as (
    select
        *,
        coalesce(expected_date + {{ var('po_overdue_grace_days') }} < {{ as_of_date() }}, false) as is_overdue
    from (
        select * from wms_open_lines
        union all
        select * from own_open_lines
    ) as all_open_lines
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
