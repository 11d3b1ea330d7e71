{#- shopkeep's own purchase orders (writeback/purchasing/orders.py), one row per line: the state of its order,
    the units ordered and, once the supplier confirmed, the units it accepted and its promised date. -#}
with source as (
    select * from {{ raw_source('raw_ops', 'purchase_order_lines') }}
),

final as (
    select
        {{ dbt.concat(["po_number", "'|'", "sku"]) }} as po_line_id,
        po_number,
        supplier_id,
        warehouse_id,
        po_state,
        {{ local_date('created_at', "'" ~ var('reporting_timezone') ~ "'") }} as ordered_date,
        cast(expected_date as date) as expected_date,
        cast(promised_date as date) as promised_date,
        sku,
        cast(quantity as integer) as ordered_quantity,
        cast(confirmed as integer) as confirmed_quantity
    from source
)

select * from final
