with source as (
    select * from {{ raw_source('raw_wms', 'stock_snapshots') }}
),

renamed as (
    select
        {{ dbt.concat(["cast(snapshot_date as varchar)", "'|'", "warehouse", "'|'", "merchant_code"]) }} as stock_snapshot_id,
        cast(snapshot_date as date) as snapshot_date,
        warehouse as warehouse_id,
        merchant_code as sku,
        cast(on_hand as integer) as on_hand,
        fetched_at
    from source
)

select * from renamed
