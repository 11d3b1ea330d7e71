with source as (
    select * from {{ raw_source('raw_jd', 'listings') }}
),

renamed as (
    select
        shop_id || ':' || cast(sku_id as varchar) as listing_id,
        shop_id,
        cast(ware_id as varchar) as platform_product_id,
        cast(sku_id as varchar) as platform_sku_id,
        nullif(trim(outer_id), '') as outer_id,
        sku_name as title,
        cast(stock_num as integer) as listed_quantity,
        -- Shopify's stock address (inventory item, location); a marketplace sets stock by its SKU ids
        cast(null as varchar) as platform_stock_item_id,
        cast(null as varchar) as platform_location_id,
        cast(jd_price as decimal(18, 2)) as list_price,
        -- searchSkuList returns the SKUs on sale
        true as is_on_sale,
        {{ dlt_load_time() }} as fetched_at
    from source
)

select * from renamed
