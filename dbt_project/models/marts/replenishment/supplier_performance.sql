{#- How each supplier delivers (供应商交付), from its purchase-order lines in supplier_deliveries, as of as_of_date:
    lines_due        lines received in full, or still open past their expected date (cancelled lines left out)
    on_time_rate     lines received in full by their expected date / lines_rated (lines due whose delivery day is known)
    fill_rate        units_received_of_due / units_due (units received / units ordered, over the lines due)
    lead_time_days_actual  mean days from order to received in full, against the configured lead time
    and what is still outstanding: open lines and units, overdue lines (past the grace days) and units, the oldest
    overdue expected date, the most days late of a line still open. -#}
with deliveries as (
    select * from {{ ref('supplier_deliveries') }}
),

suppliers as (
    select * from {{ ref('suppliers') }}
),

per_supplier as (
    select
        supplier_id,
        count(*) filter (where delivery_status <> 'cancelled') as po_lines,
        count(distinct po_number) filter (where delivery_status <> 'cancelled') as purchase_orders,
        count(*) filter (where delivery_status in ('on_time', 'late', 'received', 'late_open', 'overdue'))
            as lines_due,
        count(*) filter (where delivery_status in ('on_time', 'late', 'late_open', 'overdue')) as lines_rated,
        count(*) filter (where delivery_status = 'on_time') as lines_on_time,
        sum(ordered_quantity) filter (where delivery_status in ('on_time', 'late', 'received', 'late_open', 'overdue'))
            as units_due,
        sum(least(received_quantity, ordered_quantity)) filter (
            where delivery_status in ('on_time', 'late', 'received', 'late_open', 'overdue')
        ) as units_received_of_due,
        avg(lead_time_days_actual) as lead_time_days_actual,
        count(*) filter (where delivery_status in ('open', 'late_open', 'overdue')) as open_lines,
        coalesce(sum(open_quantity) filter (where delivery_status in ('open', 'late_open', 'overdue')), 0)
            as open_units,
        count(*) filter (where delivery_status = 'overdue') as overdue_lines,
        coalesce(sum(open_quantity) filter (where delivery_status = 'overdue'), 0) as overdue_units,
        min(expected_date) filter (where delivery_status = 'overdue') as oldest_overdue_expected_date,
        max(days_late) filter (where delivery_status in ('late_open', 'overdue')) as max_days_late_open
    from deliveries
    where supplier_id is not null
    group by 1
),

final as (
    select
        per_supplier.supplier_id,
        suppliers.supplier_name,
        cast(per_supplier.purchase_orders as integer) as purchase_orders,
        cast(per_supplier.po_lines as integer) as po_lines,
        cast(per_supplier.lines_due as integer) as lines_due,
        cast(per_supplier.lines_rated as integer) as lines_rated,
        cast(per_supplier.lines_on_time as integer) as lines_on_time,
        cast(per_supplier.lines_on_time / nullif(per_supplier.lines_rated, 0) as double) as on_time_rate,
        cast(coalesce(per_supplier.units_due, 0) as integer) as units_due,
        cast(coalesce(per_supplier.units_received_of_due, 0) as integer) as units_received_of_due,
        cast(per_supplier.units_received_of_due / nullif(per_supplier.units_due, 0) as double) as fill_rate,
        cast(per_supplier.lead_time_days_actual as double) as lead_time_days_actual,
        suppliers.lead_time_days as lead_time_days_configured,
        cast(per_supplier.open_lines as integer) as open_lines,
        cast(per_supplier.open_units as integer) as open_units,
        cast(per_supplier.overdue_lines as integer) as overdue_lines,
        cast(per_supplier.overdue_units as integer) as overdue_units,
        per_supplier.oldest_overdue_expected_date,
        cast(per_supplier.max_days_late_open as integer) as max_days_late_open
    from per_supplier
    left join suppliers on per_supplier.supplier_id = suppliers.supplier_id
)

select * from final
