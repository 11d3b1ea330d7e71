with line_items as (
    select * from {{ raw_source('raw_shopify', 'orders__line_items') }}
),

orders as (
    select _dlt_id, shop_id, id from {{ raw_source('raw_shopify', 'orders') }}
),

renamed as (
    select
        orders.shop_id || ':' || cast(line_items.id as varchar) as order_line_id,
        orders.shop_id || ':' || cast(orders.id as varchar) as order_id,
        cast(line_items.id as varchar) as platform_line_id,
        cast(line_items.variant_id as varchar) as platform_sku_id,
        cast(line_items.product_id as varchar) as platform_product_id,
        nullif(trim(line_items.sku), '') as outer_id,
        line_items.title,
        cast(line_items.quantity as integer) as quantity,
        cast(line_items.price as decimal(18, 2)) as unit_list_price,
        cast(line_items.price * line_items.quantity as decimal(18, 2)) as list_amount,
        -- total_discount is left out when a line has none
        cast(coalesce(line_items.total_discount, 0) as decimal(18, 2)) as merchant_discount,
        cast(0 as decimal(18, 2)) as platform_discount,
        cast(line_items.price * line_items.quantity - coalesce(line_items.total_discount, 0) as decimal(18, 2))
            as paid_amount
    from line_items
    inner join orders on line_items._dlt_parent_id = orders._dlt_id
)

select * from renamed
