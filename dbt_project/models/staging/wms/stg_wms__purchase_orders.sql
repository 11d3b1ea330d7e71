with source as (
    select * from {{ raw_source('raw_wms', 'purchase_orders') }}
),

renamed as (
    select
        po_number,
        supplier_id,
        warehouse as warehouse_id,
        ordered_at,
        {{ local_date('ordered_at', "'" ~ var('wms_timezone') ~ "'") }} as ordered_date,
        cast(expected_date as date) as expected_date,
        status as po_status,
        updated_at
    from source
)

select * from renamed
