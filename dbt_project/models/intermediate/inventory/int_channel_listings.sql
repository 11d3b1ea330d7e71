{#- Every channel's listings (platform SKUs with the stock they show buyers) in one shape, mapped to master SKUs
    by merchant code like the order lines are. `is_current` marks the listings seen in the shop's latest read:
    an older row is a listing the platform no longer returned (delisted), kept for history. -#}
{%- set channel_names = channels() %}

with
{% for channel in channel_names %}
{{ channel }}_listings as (
    select * from {{ ref('stg_' ~ channel ~ '__listings') }}
),
{% endfor %}

shops as (
    select * from {{ ref('stg_config__shops') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

stacked as (
    {% for channel in channel_names %}
    select
        listing_id,
        shop_id,
        platform_product_id,
        platform_sku_id,
        outer_id,
        title,
        listed_quantity,
        platform_stock_item_id,
        platform_location_id,
        list_price,
        is_on_sale,
        fetched_at
    from {{ channel }}_listings
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

mapped as (
    select
        stacked.*,
        shops.channel,
        products.sku,
        products.is_kit
    from stacked
    left join shops on stacked.shop_id = shops.shop_id
    left join products on stacked.outer_id = products.sku
),

final as (
    select
        listing_id,
        shop_id,
        channel,
        platform_product_id,
        platform_sku_id,
        outer_id,
        sku,
        sku is not null as is_mapped,
        coalesce(is_kit, false) as is_kit,
        title,
        listed_quantity,
        platform_stock_item_id,
        platform_location_id,
        list_price,
        is_on_sale,
        fetched_at,
        fetched_at = max(fetched_at) over (partition by shop_id) as is_current
    from mapped
)

select * from final
