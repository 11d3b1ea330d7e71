{#- Sales per local order date × shop, in the reporting currency (`_cny`): the Overview's numbers; and GMV,
    net sales and refunds in the shop's own currency beside them (null on a day whose lines came in several
    currencies). -#}
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
        cast(sum(refund_amount_cny) as decimal(18, 2)) as refunds_cny,
        case when count(distinct currency) = 1 then any_value(currency) end as currency,
        cast(sum(list_amount) as decimal(18, 2)) as gmv,
        cast(sum(paid_amount) as decimal(18, 2)) as net_sales,
        cast(sum(refund_amount) as decimal(18, 2)) as refunds
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
        cast(net_sales_cny / nullif(orders, 0) as decimal(18, 2)) as aov_cny,
        currency,
        case when currency is not null then gmv end as gmv,
        case when currency is not null then net_sales end as net_sales,
        case when currency is not null then refunds end as refunds
    from daily
)

select * from final
