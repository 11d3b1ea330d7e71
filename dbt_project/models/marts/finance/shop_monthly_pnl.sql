{#- The monthly P&L per shop (经营月报), in CNY, by order month: what order_line_margins holds summed per shop and
    month — sales, refunds, COGS, platform fees, fulfilment (courier) cost, return cost and the contribution margin
    that is left; orders, units and the lines whose fees or costs are still estimates. Ad spend and targets are not
    imported yet: the contribution margin is before marketing.
    contribution_margin = net_sales − refunds − cogs − platform_fees − fulfilment_cost − return_cost (the lines')
    margin_pct          = contribution_margin / (net_sales − refunds) -#}
with line_margins as (
    select * from {{ ref('order_line_margins') }}
),

shops as (
    select * from {{ ref('shops') }}
),

monthly as (
    select
        order_month as month,
        shop_id,
        count(distinct order_id) as orders,
        sum(units) as units,
        sum(list_amount_cny) as gmv_cny,
        sum(merchant_discount_cny) as merchant_discount_cny,
        sum(net_sales_cny) as net_sales_cny,
        sum(refunds_cny) as refunds_cny,
        sum(net_revenue_cny) as net_revenue_cny,
        sum(cogs_cny) as cogs_cny,
        sum(platform_fees_cny) as platform_fees_cny,
        sum(fulfilment_cost_cny) as fulfilment_cost_cny,
        sum(return_cost_cny) as return_cost_cny,
        sum(contribution_margin_cny) as contribution_margin_cny,
        count(*) filter (where fees_estimated) as lines_fees_estimated,
        count(*) filter (where costs_estimated) as lines_costs_estimated
    from line_margins
    group by 1, 2
),

final as (
    select
        {{ dbt.concat(["monthly.shop_id", "'|'", "cast(monthly.month as varchar)"]) }} as shop_month_id,
        cast(monthly.month as date) as month,
        monthly.shop_id,
        coalesce(shops.shop_name, monthly.shop_id) as shop_name,
        shops.channel,
        cast(monthly.orders as bigint) as orders,
        cast(monthly.units as bigint) as units,
        cast(monthly.gmv_cny as decimal(18, 2)) as gmv_cny,
        cast(monthly.merchant_discount_cny as decimal(18, 2)) as merchant_discount_cny,
        cast(monthly.net_sales_cny as decimal(18, 2)) as net_sales_cny,
        cast(monthly.refunds_cny as decimal(18, 2)) as refunds_cny,
        cast(monthly.net_revenue_cny as decimal(18, 2)) as net_revenue_cny,
        cast(monthly.cogs_cny as decimal(18, 2)) as cogs_cny,
        cast(monthly.platform_fees_cny as decimal(18, 2)) as platform_fees_cny,
        cast(monthly.fulfilment_cost_cny as decimal(18, 2)) as fulfilment_cost_cny,
        cast(monthly.return_cost_cny as decimal(18, 2)) as return_cost_cny,
        cast(monthly.contribution_margin_cny as decimal(18, 2)) as contribution_margin_cny,
        cast(
            monthly.contribution_margin_cny / nullif(monthly.net_sales_cny - monthly.refunds_cny, 0) as double
        ) as margin_pct,
        cast(monthly.lines_fees_estimated as bigint) as lines_fees_estimated,
        cast(monthly.lines_costs_estimated as bigint) as lines_costs_estimated
    from monthly
    left join shops on monthly.shop_id = shops.shop_id
)

select * from final
