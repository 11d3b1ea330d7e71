with lines as (
    select * from {{ raw_source('raw_wms', 'purchase_orders__lines') }}
),

purchase_orders as (
    select * from {{ raw_source('raw_wms', 'purchase_orders') }}
),

joined as (
    select
        purchase_orders.po_number,
        purchase_orders.warehouse,
        lines.merchant_code,
        lines.quantity,
        lines.received_quantity,
        lines.unit_cost
    from lines
    inner join purchase_orders on lines._dlt_parent_id = purchase_orders._dlt_id
),

renamed as (
    select
        {{ dbt.concat(["po_number", "'|'", "merchant_code"]) }} as po_line_id,
        po_number,
        warehouse as warehouse_id,
        merchant_code as sku,
        cast(quantity as integer) as ordered_quantity,
        cast(coalesce(received_quantity, 0) as integer) as received_quantity,
        cast(unit_cost as decimal(18, 2)) as unit_cost
    from joined
)

select * from renamed
