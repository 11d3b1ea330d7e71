{#- Ad and marketing spend per shop, day and plan (计划), in the reporting currency (the `_cny` columns, rate of
    the spend date), from the ad platforms' plan reports imported through the file importer. Attributed orders and
    GMV are the ad platform's own attribution (generous: a click days earlier counts), so roas is the platform's
    view; the warehouse's contribution margin after ads (shop_monthly_pnl) is the seller's.
    roas = attributed_gmv / spend (null when nothing was spent) -#}
with ad_spend as (
    select * from {{ ref('int_ad_spend') }}
    where fx_rate is not null
),

shops as (
    select * from {{ ref('shops') }}
),

final as (
    select
        ad_spend.ad_spend_id,
        ad_spend.spend_date,
        ad_spend.shop_id,
        coalesce(shops.shop_name, ad_spend.shop_id) as shop_name,
        shops.channel,
        ad_spend.campaign_id,
        ad_spend.campaign_name,
        ad_spend.ad_product,
        ad_spend.currency,
        cast(ad_spend.spend as decimal(18, 2)) as spend,
        cast(round(ad_spend.spend * ad_spend.fx_rate, 2) as decimal(18, 2)) as spend_cny,
        cast(ad_spend.impressions as bigint) as impressions,
        cast(ad_spend.clicks as bigint) as clicks,
        cast(ad_spend.attributed_orders as bigint) as attributed_orders,
        cast(round(ad_spend.attributed_gmv * ad_spend.fx_rate, 2) as decimal(18, 2)) as attributed_gmv_cny,
        cast(ad_spend.attributed_gmv / nullif(ad_spend.spend, 0) as double) as roas,
        ad_spend.source_file
    from ad_spend
    left join shops on ad_spend.shop_id = shops.shop_id
)

select * from final
