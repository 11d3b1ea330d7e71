with source as (
    select * from {{ raw_source('raw_wms', 'stock_movements') }}
),

renamed as (
    select
        id as movement_id,
        moved_at,
        {{ local_date('moved_at', "'" ~ var('wms_timezone') ~ "'") }} as moved_date,
        warehouse as warehouse_id,
        merchant_code as sku,
        type as movement_type,
        cast(quantity as integer) as quantity,
        nullif(reference, '') as reference
    from source
)

select * from renamed
