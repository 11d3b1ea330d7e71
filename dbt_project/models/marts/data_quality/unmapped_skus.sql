{#- Channel SKUs whose merchant code matches no master SKU in the product master. Their sales still count
    (as `unmapped:<code>`); this list is what someone must fix, in the listing or in the product master. -#}
with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where not is_mapped
),

final as (
    select
        shop_id,
        coalesce(outer_id, '') as outer_id,
        platform_sku_id,
        max(product_name) as listing_title,
        cast(count(*) as bigint) as order_lines,
        cast(sum(quantity) as bigint) as units,
        cast(sum(paid_amount_cny) as decimal(18, 2)) as net_sales_cny,
        min(order_date) as first_sold_on,
        max(order_date) as last_sold_on
    from lines
    group by 1, 2, 3
)

select * from final
