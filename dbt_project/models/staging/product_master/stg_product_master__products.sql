with source as (
    select * from {{ raw_source('raw_product_master', 'products') }}
),

renamed as (
    select
        sku,
        name as product_name,
        case trim(category)
            when '服装' then 'apparel'
            when '家居' then 'home'
            when '零食' then 'snacks'
            else coalesce(lower(trim(category)), 'uncategorised')
        end as category,
        spu,
        size,
        cast(unit_cost as decimal(18, 2)) as unit_cost,
        cast(list_price as decimal(18, 2)) as list_price,
        supplier_id,
        pack_size,
        moq,
        lead_time_days,
        shelf_life_days,
        weight_g,
        coalesce(is_kit, false) as is_kit,
        barcode,
        cast(launched_on as date) as launched_on
    from source
)

select * from renamed
