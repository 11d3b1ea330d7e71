with sku_orders as (
    select * from {{ raw_source('raw_douyin', 'orders__sku_order_list') }}
),

orders as (
    select _dlt_id, shop_id, order_id from {{ raw_source('raw_douyin', 'orders') }}
),

final as (
    -- Douyin states each sub-order's own shop/platform promotions, so no allocation is needed.
    select
        orders.shop_id || ':' || sku_orders.order_id as order_line_id,
        orders.shop_id || ':' || orders.order_id as order_id,
        sku_orders.order_id as platform_line_id,
        cast(sku_orders.product_id as varchar) as platform_product_id,
        cast(sku_orders.sku_id as varchar) as platform_sku_id,
        -- the merchant code (商家编码), else the seller's external SKU id, as on the listings
        coalesce(nullif(trim(sku_orders.code), ''), nullif(trim(sku_orders.out_sku_id), '')) as outer_id,
        sku_orders.product_name as title,
        cast(sku_orders.item_num as integer) as quantity,
        cast(sku_orders.goods_price / 100 as decimal(18, 2)) as unit_list_price,
        cast(sku_orders.origin_amount / 100 as decimal(18, 2)) as list_amount,
        -- promotion amounts are left out when zero
        cast(coalesce(sku_orders.promotion_shop_amount, 0) / 100 as decimal(18, 2)) as merchant_discount,
        cast(coalesce(sku_orders.promotion_platform_amount, 0) / 100 as decimal(18, 2)) as platform_discount,
        cast(sku_orders.pay_amount / 100 as decimal(18, 2)) as paid_amount
    from sku_orders
    inner join orders on sku_orders._dlt_parent_id = orders._dlt_id
)

select * from final
