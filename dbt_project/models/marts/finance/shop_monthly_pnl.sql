{#- The monthly P&L per shop (经营月报), in CNY, by month: what order_line_margins holds summed per shop and order
    month — sales, refunds, COGS, platform fees, fulfilment (courier) cost, return cost and the contribution margin
    that is left —, the month's ad spend (ad_spend_daily, by spend date) and what is left after it, the profit per
    order, and the manager's targets for the month (entered on the dashboard into the ops store, read at each
    build) with their attainment. A month with ad spend but no orders has a row too.
    contribution_margin           = net_sales − refunds − cogs − platform_fees − fulfilment_cost − return_cost
    margin_pct                    = contribution_margin / (net_sales − refunds)
    contribution_after_ads        = contribution_margin − ad_spend
    margin_after_ads_pct          = contribution_after_ads / (net_sales − refunds)
    profit_per_order              = contribution_after_ads / orders
    net_revenue_attainment        = net_revenue / net_revenue_target (null without a target)
    contribution_attainment       = contribution_after_ads / contribution_target (null without a target) -#}
with line_margins as (
    select * from {{ ref('order_line_margins') }}
),

shops as (
    select * from {{ ref('shops') }}
),

ad_spend as (
    select
        cast(date_trunc('month', spend_date) as date) as month,
        shop_id,
        sum(spend_cny) as ad_spend_cny
    from {{ ref('ad_spend_daily') }}
    group by 1, 2
),

shops_with_ads as (
    select distinct shop_id from ad_spend
),

targets as (
    select * from {{ ref('stg_ops__shop_targets') }}
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

shop_months as (
    select month, shop_id from monthly
    union
    select month, shop_id from ad_spend
),

combined as (
    select
        shop_months.month,
        shop_months.shop_id,
        coalesce(monthly.orders, 0) as orders,
        coalesce(monthly.units, 0) as units,
        coalesce(monthly.gmv_cny, 0) as gmv_cny,
        coalesce(monthly.merchant_discount_cny, 0) as merchant_discount_cny,
        coalesce(monthly.net_sales_cny, 0) as net_sales_cny,
        coalesce(monthly.refunds_cny, 0) as refunds_cny,
        coalesce(monthly.net_revenue_cny, 0) as net_revenue_cny,
        coalesce(monthly.cogs_cny, 0) as cogs_cny,
        coalesce(monthly.platform_fees_cny, 0) as platform_fees_cny,
        coalesce(monthly.fulfilment_cost_cny, 0) as fulfilment_cost_cny,
        coalesce(monthly.return_cost_cny, 0) as return_cost_cny,
        coalesce(monthly.contribution_margin_cny, 0) as contribution_margin_cny,
        coalesce(ad_spend.ad_spend_cny, 0) as ad_spend_cny,
        coalesce(monthly.contribution_margin_cny, 0) - coalesce(ad_spend.ad_spend_cny, 0) as contribution_after_ads_cny,
        shops_with_ads.shop_id is not null as has_ad_spend,
        coalesce(monthly.lines_fees_estimated, 0) as lines_fees_estimated,
        coalesce(monthly.lines_costs_estimated, 0) as lines_costs_estimated,
        targets.net_revenue_target_cny,
        targets.contribution_target_cny
    from shop_months
    left join monthly on shop_months.month = monthly.month and shop_months.shop_id = monthly.shop_id
    left join ad_spend on shop_months.month = ad_spend.month and shop_months.shop_id = ad_spend.shop_id
    left join shops_with_ads on shop_months.shop_id = shops_with_ads.shop_id
    left join targets
        on shop_months.shop_id = targets.shop_id
        and cast(shop_months.month as date) = targets.month
),

final as (
    select
        {{ dbt.concat(["combined.shop_id", "'|'", "cast(cast(combined.month as date) as varchar)"]) }} as shop_month_id,
        cast(combined.month as date) as month,
        combined.shop_id,
        coalesce(shops.shop_name, combined.shop_id) as shop_name,
        shops.channel,
        cast(combined.orders as bigint) as orders,
        cast(combined.units as bigint) as units,
        cast(combined.gmv_cny as decimal(18, 2)) as gmv_cny,
        cast(combined.merchant_discount_cny as decimal(18, 2)) as merchant_discount_cny,
        cast(combined.net_sales_cny as decimal(18, 2)) as net_sales_cny,
        cast(combined.refunds_cny as decimal(18, 2)) as refunds_cny,
        cast(combined.net_revenue_cny as decimal(18, 2)) as net_revenue_cny,
        cast(combined.cogs_cny as decimal(18, 2)) as cogs_cny,
        cast(combined.platform_fees_cny as decimal(18, 2)) as platform_fees_cny,
        cast(combined.fulfilment_cost_cny as decimal(18, 2)) as fulfilment_cost_cny,
        cast(combined.return_cost_cny as decimal(18, 2)) as return_cost_cny,
        cast(combined.contribution_margin_cny as decimal(18, 2)) as contribution_margin_cny,
        cast(
            combined.contribution_margin_cny / nullif(combined.net_sales_cny - combined.refunds_cny, 0) as double
        ) as margin_pct,
        cast(combined.ad_spend_cny as decimal(18, 2)) as ad_spend_cny,
        cast(combined.contribution_after_ads_cny as decimal(18, 2)) as contribution_after_ads_cny,
        cast(
            combined.contribution_after_ads_cny / nullif(combined.net_sales_cny - combined.refunds_cny, 0) as double
        ) as margin_after_ads_pct,
        cast(round(combined.contribution_after_ads_cny / nullif(combined.orders, 0), 2) as decimal(18, 2))
            as profit_per_order_cny,
        combined.has_ad_spend,
        cast(combined.net_revenue_target_cny as decimal(18, 2)) as net_revenue_target_cny,
        cast(combined.net_revenue_cny / nullif(combined.net_revenue_target_cny, 0) as double)
            as net_revenue_attainment,
        cast(combined.contribution_target_cny as decimal(18, 2)) as contribution_target_cny,
        cast(combined.contribution_after_ads_cny / nullif(combined.contribution_target_cny, 0) as double)
            as contribution_attainment,
        cast(combined.lines_fees_estimated as bigint) as lines_fees_estimated,
        cast(combined.lines_costs_estimated as bigint) as lines_costs_estimated
    from combined
    left join shops on combined.shop_id = shops.shop_id
)

select * from final
