{#- Returns per master SKU × shop × order month (metrics.md "Returns"): units sold on paid orders of the month,
    units returned from them (after-sales cases not closed: done or in progress), the return rate by order
    month, refunds paid, and the returned units per canonical reason with the top reason and its share.
    Kits count as their components. An unmapped line (its code matches no product-master SKU) counts as
    `unmapped:<code>`, is_mapped = false, category `unmapped`, so a shop without a product master sees its returns.
-#}
with components as (
    select sku, shop_id, order_date, units, paid_amount_cny, cast(null as varchar) as listing_title
    from {{ ref('int_order_line_components') }}
    where paid_at is not null
    union all
    select report_sku as sku, shop_id, order_date, quantity as units, paid_amount_cny, product_name as listing_title
    from {{ ref('int_order_lines_enriched') }}
    where paid_at is not null and not is_mapped
),

returns as (
    select * from {{ ref('int_return_components') }}
    where is_counted
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

sold as (
    select
        sku,
        shop_id,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as order_month,
        sum(units) as units_sold,
        sum(paid_amount_cny) as net_sales_cny,
        max(listing_title) as listing_title
    from components
    group by 1, 2, 3
),

returned as (
    select
        sku,
        shop_id,
        order_month,
        sum(units_returned) as units_returned,
        sum(refund_amount_cny) as refund_amount_cny,
        {% for reason in ['size', 'quality', 'not_as_described', 'damaged', 'changed_mind', 'late', 'other'] -%}
        sum(units_returned) filter (where reason_code = '{{ reason }}') as returned_{{ reason }},
        {% endfor -%}
        count(*) as return_cases
    from returns
    group by 1, 2, 3
),

-- top reason: most returned units (ties: alphabetical)
reason_ranked as (
    select
        sku,
        shop_id,
        order_month,
        reason_code,
        sum(units_returned) as units,
        row_number() over (
            partition by sku, shop_id, order_month order by sum(units_returned) desc, reason_code
        ) as reason_rank
    from returns
    group by 1, 2, 3, 4
),

joined as (
    select
        sold.sku,
        sold.shop_id,
        sold.order_month,
        coalesce(products.product_name, sold.listing_title) as product_name,
        coalesce(products.category, 'unmapped') as category,
        products.sku is not null as is_mapped,
        products.spu,
        products.size,
        sold.units_sold,
        coalesce(returned.units_returned, 0) as units_returned,
        coalesce(returned.return_cases, 0) as return_cases,
        coalesce(returned.refund_amount_cny, 0) as refund_amount_cny,
        sold.net_sales_cny,
        {% for reason in ['size', 'quality', 'not_as_described', 'damaged', 'changed_mind', 'late', 'other'] -%}
        coalesce(returned.returned_{{ reason }}, 0) as returned_{{ reason }},
        {% endfor -%}
        top.reason_code as top_reason,
        top.units as top_reason_units
    from sold
    left join products on products.sku = sold.sku
    left join returned
        on returned.sku = sold.sku
        and returned.shop_id = sold.shop_id
        and returned.order_month = sold.order_month
    left join reason_ranked as top
        on top.sku = sold.sku
        and top.shop_id = sold.shop_id
        and top.order_month = sold.order_month
        and top.reason_rank = 1
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "shop_id", "'|'", "cast(order_month as varchar)"]) }} as return_analysis_id,
        sku,
        shop_id,
        order_month,
        product_name,
        category,
        is_mapped,
        spu,
        size,
        cast(units_sold as bigint) as units_sold,
        cast(units_returned as bigint) as units_returned,
        cast(return_cases as bigint) as return_cases,
        cast(units_returned / nullif(units_sold, 0) as double) as return_rate,
        cast(returned_size / nullif(units_sold, 0) as double) as size_return_rate,
        cast(refund_amount_cny as decimal(18, 2)) as refund_amount_cny,
        cast(net_sales_cny as decimal(18, 2)) as net_sales_cny,
        {% for reason in ['size', 'quality', 'not_as_described', 'damaged', 'changed_mind', 'late', 'other'] -%}
        cast(returned_{{ reason }} as bigint) as returned_{{ reason }},
        {% endfor -%}
        top_reason,
        cast(top_reason_units / nullif(units_returned, 0) as double) as top_reason_share
    from joined
)

select * from final
