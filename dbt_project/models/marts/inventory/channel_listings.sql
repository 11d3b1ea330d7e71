{#- The listings each shop shows buyers now (the shop's latest read), with the platform ids stock sync writes
    to: one row per listing. A listing whose merchant code maps to no master SKU is kept (is_mapped = false):
    stock sync cannot plan it and says so. -#}
with listings as (
    select * from {{ ref('int_channel_listings') }}
),

final as (
    select
        listing_id,
        shop_id,
        channel,
        sku,
        is_mapped,
        is_kit,
        platform_product_id,
        platform_sku_id,
        outer_id,
        platform_stock_item_id,
        platform_location_id,
        listed_quantity,
        is_on_sale,
        fetched_at
    from listings
    where is_current
)

select * from final
