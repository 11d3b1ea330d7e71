{#- Every source shopkeep can read and whether this setup configures it, with the shopkeep.toml section that
    adds it: the dashboards say "not configured: add [wms]" from here instead of drawing an empty chart. -#}
with sources as (
    select * from {{ ref('stg_config__sources') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

final as (
    select
        sources.source_kind || coalesce(':' || sources.shop_id, '') as source_id,
        sources.source_kind,
        sources.shop_id,
        shops.shop_name,
        sources.is_configured,
        case sources.source_kind
            when 'wms' then '[wms]'
            when 'product_master' then '[product_master]'
            when 'files' then '[files]'
            else '[[shops]]'
        end as config_section
    from sources
    left join shops on sources.shop_id = shops.shop_id
)

select * from final
