with products as (
    select * from {{ raw_source('raw_shopify', 'products') }}
),

variants as (
    select * from {{ raw_source('raw_shopify', 'products__variants') }}
),

inventory_levels as (
    select * from {{ raw_source('raw_shopify', 'inventory_levels') }}
),

-- what Shopify shows as available, summed over the locations shopkeep reads
available_per_item as (
    select
        shop_id,
        inventory_item_id,
        sum(available) as available,
        -- the location stock sync sets (the first, when Shopify reports the item at several)
        min(location_id) as location_id,
        max({{ dlt_load_time() }}) as fetched_at
    from inventory_levels
    group by shop_id, inventory_item_id
),

joined as (
    select
        products.shop_id,
        products.id as product_id,
        products.title as product_title,
        products.status,
        variants.id as variant_id,
        variants.title as variant_title,
        variants.sku,
        variants.price,
        variants.inventory_item_id,
        available_per_item.location_id,
        available_per_item.available,
        coalesce(available_per_item.fetched_at, {{ dlt_load_time('products._dlt_load_id') }}) as fetched_at
    from variants
    inner join products on variants._dlt_parent_id = products._dlt_id
    left join available_per_item
        on products.shop_id = available_per_item.shop_id
        and variants.inventory_item_id = available_per_item.inventory_item_id
),

renamed as (
    select
        shop_id || ':' || cast(variant_id as varchar) as listing_id,
        shop_id,
        cast(product_id as varchar) as platform_product_id,
        cast(variant_id as varchar) as platform_sku_id,
        nullif(trim(sku), '') as outer_id,
        product_title || ' / ' || variant_title as title,
        cast(coalesce(available, 0) as integer) as listed_quantity,
        cast(inventory_item_id as varchar) as platform_stock_item_id,
        cast(location_id as varchar) as platform_location_id,
        -- in the store's currency (USD for the cross-border store)
        cast(price as decimal(18, 2)) as list_price,
        coalesce(status = 'active', true) as is_on_sale,
        fetched_at
    from joined
)

select * from renamed
