with source as (
    select * from {{ raw_source('raw_taobao', 'listings') }}
),

renamed as (
    select
        shop_id || ':' || cast(sku_id as varchar) as listing_id,
        shop_id,
        cast(num_iid as varchar) as platform_product_id,
        cast(sku_id as varchar) as platform_sku_id,
        nullif(trim(outer_id), '') as outer_id,
        coalesce(properties_name, item_title) as title,
        cast(quantity as integer) as listed_quantity,
        -- Shopify's stock address (inventory item, location); a marketplace sets stock by its SKU ids
        cast(null as varchar) as platform_stock_item_id,
        cast(null as varchar) as platform_location_id,
        cast(price as decimal(18, 2)) as list_price,
        coalesce(approve_status = 'onsale', true) as is_on_sale,
        cast(read_at as timestamp with time zone) as fetched_at
    from source
)

select * from renamed
