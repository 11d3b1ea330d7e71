{#- Order lines from exports of any layout. A layout without a line id gives each line its order, SKU and the
    SKU's occurrence in the order (macro line_key), as the marketplaces' own exports need. Where the export has
    no SKU id, the merchant code stands in; where it has no line total, unit price × quantity less discounts. -#}
with source as (
    select * from {{ raw_source('raw_files', 'orders') }}
),

keyed as (
    select
        source.*,
        coalesce(source.sku_id, source.outer_id) as line_sku_id,
        coalesce(
            source.line_id,
            {{ line_key('source.order_id', 'coalesce(source.sku_id, source.outer_id)', 'coalesce(source.sku_occurrence, 1)') }}
        ) as line_key
    from source
),

final as (
    select
        shop_id || ':' || line_key as order_line_id,
        shop_id || ':' || order_id as order_id,
        line_key as platform_line_id,
        product_id as platform_product_id,
        line_sku_id as platform_sku_id,
        nullif(trim(outer_id), '') as outer_id,
        title,
        cast(quantity as integer) as quantity,
        cast(coalesce(unit_price, line_list_amount / nullif(quantity, 0)) as decimal(18, 2)) as unit_list_price,
        cast(coalesce(line_list_amount, unit_price * quantity) as decimal(18, 2)) as list_amount,
        cast(coalesce(line_merchant_discount, 0) as decimal(18, 2)) as merchant_discount,
        cast(coalesce(line_platform_discount, 0) as decimal(18, 2)) as platform_discount,
        cast(coalesce(
            line_paid_amount,
            coalesce(line_list_amount, unit_price * quantity)
                - coalesce(line_merchant_discount, 0) - coalesce(line_platform_discount, 0)
        ) as decimal(18, 2)) as paid_amount
    from keyed
)

select * from final
