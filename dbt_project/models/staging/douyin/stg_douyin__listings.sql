with source as (
    select * from {{ raw_source('raw_douyin', 'listings') }}
),

renamed as (
    select
        shop_id || ':' || cast(id as varchar) as listing_id,
        shop_id,
        cast(product_id as varchar) as platform_product_id,
        cast(id as varchar) as platform_sku_id,
        -- `code` is the merchant code (商家编码), as on the order lines
        coalesce(nullif(trim(code), ''), nullif(trim(out_sku_id), '')) as outer_id,
        spec_detail_name1 as title,
        cast(stock_num as integer) as listed_quantity,
        -- Shopify's stock address (inventory item, location); a marketplace sets stock by its SKU ids
        cast(null as varchar) as platform_stock_item_id,
        cast(null as varchar) as platform_location_id,
        -- Douyin sends fen
        cast(price / 100 as decimal(18, 2)) as list_price,
        -- sku.list returns the shop's SKUs on sale
        true as is_on_sale,
        {{ dlt_load_time() }} as fetched_at
    from source
)

select * from renamed
