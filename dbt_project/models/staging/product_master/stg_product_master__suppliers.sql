with source as (
    select * from {{ raw_source('raw_product_master', 'suppliers') }}
),

renamed as (
    select
        supplier_id,
        name as supplier_name,
        lead_time_days,
        moq,
        coalesce(currency, 'CNY') as currency
    from source
)

select * from renamed
