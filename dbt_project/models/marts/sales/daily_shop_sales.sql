{#- Sales per local order date × shop, in CNY: the Overview's numbers. -#}
with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where paid_at is not null
),

daily as (
    select
        order_date,
        shop_id,
        cast(count(distinct order_id) as bigint) as orders,
        cast(sum(quantity) as bigint) as units,
        cast(count(distinct buyer_key) as bigint) as buyers,
        cast(sum(list_amount_cny) as decimal(18, 2)) as gmv_cny,
        cast(sum(paid_amount_cny) as decimal(18, 2)) as net_sales_cny,
        cast(sum(refund_amount_cny) as decimal(18, 2)) as refunds_cny
    from lines
    group by 1, 2
),

final as (
    select
        order_date,
        shop_id,
        orders,
        units,
        buyers,
        gmv_cny,
        net_sales_cny,
        refunds_cny,
        cast(net_sales_cny - refunds_cny as decimal(18, 2)) as net_revenue_cny,
        cast(net_sales_cny / nullif(orders, 0) as decimal(18, 2)) as aov_cny
    from daily
)

select * from final
