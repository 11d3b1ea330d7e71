with source as (
    select * from {{ raw_source('raw_pinduoduo', 'listings') }}
),

renamed as (
    select
        shop_id || ':' || cast(sku_id as varchar) as listing_id,
        shop_id,
        cast(goods_id as varchar) as platform_product_id,
        cast(sku_id as varchar) as platform_sku_id,
        nullif(trim(outer_id), '') as outer_id,
        goods_name as title,
        cast(sku_quantity as integer) as listed_quantity,
        -- Shopify's stock address (inventory item, location); a marketplace sets stock by its SKU ids
        cast(null as varchar) as platform_stock_item_id,
        cast(null as varchar) as platform_location_id,
        -- Pinduoduo sends fen
        cast(sku_price / 100 as decimal(18, 2)) as list_price,
        coalesce(is_onsale = 1 and coalesce(is_sku_onsale, 1) = 1, true) as is_on_sale,
        {{ dlt_load_time() }} as fetched_at
    from source
)

select * from renamed
