{#- Pinduoduo order lines from the back-office export (the export has no line id: a line is its order, SKU and the SKU's occurrence in the order — macro line_key). -#}
with source as (
    select * from {{ raw_source('raw_files', 'pinduoduo_orders') }}
),

final as (
    select
        source.shop_id || ':' || {{ line_key('source.order_id', 'source.sku_id', 'coalesce(source.sku_occurrence, 1)') }}
            as order_line_id,
        source.shop_id || ':' || source.order_id as order_id,
        {{ line_key('source.order_id', 'source.sku_id', 'coalesce(source.sku_occurrence, 1)') }} as platform_line_id,
        source.product_id as platform_product_id,
        source.sku_id as platform_sku_id,
        source.outer_id,
        source.title,
        cast(source.quantity as integer) as quantity,
        cast(source.unit_price as decimal(18, 2)) as unit_list_price,
        cast(source.unit_price * source.quantity as decimal(18, 2)) as list_amount,
        cast(coalesce(source.line_merchant_discount, 0) as decimal(18, 2)) as merchant_discount,
        cast(coalesce(source.line_platform_discount, 0) as decimal(18, 2)) as platform_discount,
        cast(source.line_paid_amount as decimal(18, 2)) as paid_amount
    from source
)

select * from final
