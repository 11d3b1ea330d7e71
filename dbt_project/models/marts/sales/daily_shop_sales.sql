{#- Sales per local order date × shop, in the reporting currency (`_cny`): the Overview's numbers; and GMV,
    net sales and refunds in the shop's own currency beside them (null on a day whose lines came in several
    currencies). Freight is the shipping the buyers of the day's paid orders were charged (order-level, outside
    GMV and net sales). -#}
{#- Incremental by order date (macros/incremental_by_signature.sql), as daily_sku_sales: a date's signature is the
    versions of its paid order lines in the order chain, which hash their order too (its shipping charged,
    status, buyer); an hourly run rebuilds the dates whose lines changed. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_date',
    on_schema_change='append_new_columns',
    pre_hook="{{ paid_line_signatures_by_date() }}",
    post_hook="{{ save_signatures('order_date') }}",
) }}

with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where paid_at is not null
        and {{ only_rebuilt('order_date') }}
),

paid_orders as (
    select * from {{ ref('int_orders_unified') }}
    where {{ only_rebuilt('order_date') }}
),

order_rates as (
    select
        order_id,
        any_value(fx_rate) as fx_rate
    from lines
    group by 1
),

freight as (
    select
        paid_orders.order_date,
        paid_orders.shop_id,
        cast(sum(coalesce(paid_orders.shipping_amount, 0)) as decimal(18, 2)) as freight,
        cast(sum(cast(coalesce(paid_orders.shipping_amount, 0) * order_rates.fx_rate as decimal(18, 2)))
            as decimal(18, 2)) as freight_cny
    from paid_orders
    inner join order_rates on paid_orders.order_id = order_rates.order_id  -- the orders with a payment
    group by 1, 2
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
        daily.order_date,
        daily.shop_id,
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
        case when currency is not null then refunds end as refunds,
        cast(coalesce(freight.freight_cny, 0) as decimal(18, 2)) as freight_cny,
        case when currency is not null then cast(coalesce(freight.freight, 0) as decimal(18, 2)) end as freight
    from daily
    left join freight
        on daily.order_date = freight.order_date
        and daily.shop_id = freight.shop_id
)

select * from final
