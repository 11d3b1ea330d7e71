{#- Every purchase-order line with how its supplier delivered (the overdue-PO report, 到货跟踪), as of as_of_date:
    the WMS's lines, and shopkeep's own orders once sent (writeback/purchasing; po_source 'shopkeep') until the WMS
    lists the PO itself, as int_sku_on_order counts them. An own line is due the units its supplier confirmed
    (ordered, until it confirmed) on its promised date (else the expected date); it is received by the WMS's
    receipts against its PO number; a cancelled own order is left out (it was never to be delivered), a closed one
    (po_status closed) owes nothing more: its shortfall stays in the fill rate, its on-time is not rated. A line is received in full on the day its receipts reach the ordered quantity.
    delivery_status:
      cancelled  the PO was cancelled
      on_time    received in full on or before the expected date
      late       received in full after the expected date
      received   received in full, on a day the warehouse's receipt history no longer holds (not rated)
      open       still to come, not yet due
      late_open  still to come, past the expected date but within po_overdue_grace_days (still counted as incoming)
      overdue    still to come, more than po_overdue_grace_days past the expected date (no longer counted as
                 incoming: int_sku_on_order)
    days_late = (received-in-full date, else as_of_date) − expected date, for late, late_open and overdue lines;
    lead_time_days_actual = received-in-full date − order date. -#}
with purchase_orders as (
    select * from {{ ref('stg_wms__purchase_orders') }}
),

purchase_order_lines as (
    select * from {{ ref('stg_wms__purchase_order_lines') }}
),

receipts as (
    select * from {{ ref('stg_wms__receipts') }}
),

own_lines as (
    select * from {{ ref('stg_ops__purchase_order_lines') }}
),

line_receipts as (
    select
        receipts.po_line_id,
        min(receipts.received_date) as first_received_date,
        max(receipts.received_date) as last_received_date,
        sum(receipts.quantity) as received_quantity
    from receipts
    group by 1
),

all_lines as (
    select
        purchase_order_lines.po_line_id,
        purchase_order_lines.po_number,
        purchase_orders.supplier_id,
        purchase_orders.warehouse_id,
        purchase_order_lines.sku,
        purchase_orders.ordered_date,
        purchase_orders.expected_date,
        purchase_orders.po_status,
        purchase_order_lines.ordered_quantity,
        purchase_order_lines.received_quantity,
        'wms' as po_source
    from purchase_order_lines
    inner join purchase_orders on purchase_order_lines.po_number = purchase_orders.po_number
    union all
    select
        own_lines.po_line_id,
        own_lines.po_number,
        own_lines.supplier_id,
        own_lines.warehouse_id,
        own_lines.sku,
        own_lines.ordered_date,
        coalesce(own_lines.promised_date, own_lines.expected_date),
        case own_lines.po_state when 'received' then 'received' when 'closed' then 'closed' else 'open' end,
        coalesce(own_lines.confirmed_quantity, own_lines.ordered_quantity),
        coalesce(line_receipts.received_quantity, 0),
        'shopkeep'
    from own_lines
    left join line_receipts on own_lines.po_line_id = line_receipts.po_line_id
    where own_lines.po_state in ('sent', 'confirmed', 'partially_received', 'received', 'closed')
        and own_lines.po_number not in (select po_number from purchase_orders)
),

suppliers as (
    select * from {{ ref('suppliers') }}
),

skus as (
    select * from {{ ref('skus') }}
),

cumulative as (
    select
        po_line_id,
        received_date,
        sum(quantity) over (
            partition by po_line_id order by received_at, receipt_id rows between unbounded preceding and current row
        ) as received_so_far
    from receipts
),

lines as (
    select
        all_lines.*,
        greatest(all_lines.ordered_quantity - all_lines.received_quantity, 0) as open_quantity,
        line_receipts.first_received_date,
        line_receipts.last_received_date,
        (
            select min(cumulative.received_date)
            from cumulative
            where cumulative.po_line_id = all_lines.po_line_id
              and cumulative.received_so_far >= all_lines.ordered_quantity
        ) as received_in_full_date,
        {{ as_of_date() }} as as_of_date
    from all_lines
    left join line_receipts on all_lines.po_line_id = line_receipts.po_line_id
),

classified as (
    select
        lines.*,
        case
            when lines.po_status = 'cancelled' then 'cancelled'
            when lines.po_status = 'closed' and lines.open_quantity > 0 then 'received'  -- closed short: not rated
            when lines.open_quantity = 0 and lines.received_in_full_date is null then 'received'
            when lines.open_quantity = 0 and lines.received_in_full_date <= lines.expected_date then 'on_time'
            when lines.open_quantity = 0 then 'late'
            when lines.expected_date is null or lines.as_of_date <= lines.expected_date then 'open'
            when lines.expected_date + {{ var('po_overdue_grace_days') }} < lines.as_of_date then 'overdue'
            else 'late_open'
        end as delivery_status
    from lines
),

final as (
    select
        classified.po_line_id,
        classified.po_number,
        classified.supplier_id,
        suppliers.supplier_name,
        classified.warehouse_id,
        classified.sku,
        skus.product_name,
        classified.ordered_date,
        classified.expected_date,
        classified.po_status,
        classified.po_source,
        cast(classified.ordered_quantity as integer) as ordered_quantity,
        cast(classified.received_quantity as integer) as received_quantity,
        cast(case when classified.po_status in ('cancelled', 'closed') then 0 else classified.open_quantity end
            as integer) as open_quantity,
        classified.first_received_date,
        classified.received_in_full_date,
        classified.delivery_status,
        cast(case
            when classified.delivery_status = 'late'
                then classified.received_in_full_date - classified.expected_date
            when classified.delivery_status in ('late_open', 'overdue')
                then classified.as_of_date - classified.expected_date
        end as integer) as days_late,
        cast(classified.received_in_full_date - classified.ordered_date as integer) as lead_time_days_actual,
        suppliers.lead_time_days as lead_time_days_configured,
        classified.as_of_date
    from classified
    left join suppliers on classified.supplier_id = suppliers.supplier_id
    left join skus on classified.sku = skus.sku
)

select * from final
