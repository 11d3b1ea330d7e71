with source as (
    select * from {{ raw_source('raw_wms', 'receipts') }}
),

renamed as (
    select
        id as receipt_id,
        po_number,
        {{ dbt.concat(["po_number", "'|'", "merchant_code"]) }} as po_line_id,
        warehouse as warehouse_id,
        merchant_code as sku,
        received_at,
        {{ local_date('received_at', "'" ~ var('wms_timezone') ~ "'") }} as received_date,
        cast(quantity as integer) as quantity,
        cast(unit_cost as decimal(18, 2)) as unit_cost
    from source
)

select * from renamed
