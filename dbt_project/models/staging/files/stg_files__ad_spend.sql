{#- Ad spend from the ad platforms' plan reports, one row per shop, day and plan (计划): the plan's id, or its
    name numbered by occurrence where a layout has no id. The currency is the report's, else the shop's. -#}
with source as (
    select * from {{ raw_source('raw_files', 'ad_spend') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

final as (
    select
        source.shop_id || ':' || cast(source.spend_date as varchar) || ':'
            || coalesce(
                nullif(source.campaign_id, ''),
                coalesce(source.campaign_name, '') || '#' || cast(coalesce(nullif(source.campaign_occurrence, 0), 1) as varchar)
            ) as ad_spend_id,
        source.shop_id,
        cast(source.spend_date as date) as spend_date,
        coalesce(nullif(source.campaign_id, ''), source.campaign_name) as campaign_id,
        coalesce(source.campaign_name, source.campaign_id) as campaign_name,
        source.ad_product,
        coalesce(source.currency, shops.currency) as currency,
        cast(source.spend as decimal(18, 2)) as spend,
        source.impressions,
        source.clicks,
        source.attributed_orders,
        cast(source.attributed_gmv as decimal(18, 2)) as attributed_gmv,
        source.source_file
    from source
    inner join shops on source.shop_id = shops.shop_id
)

select * from final
