with source as (
    select * from {{ raw_source('raw_product_master', 'kit_components') }}
),

renamed as (
    select
        {{ dbt.concat(["kit_sku", "'|'", "component_sku"]) }} as kit_component_id,
        kit_sku,
        component_sku,
        quantity
    from source
)

select * from renamed
