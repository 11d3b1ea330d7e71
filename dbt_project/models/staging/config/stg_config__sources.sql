{#- Which sources shopkeep.toml configures: the WMS, the product master, the exports folder and each shop. -#}
with source as (
    select * from {{ raw_source('raw_config', 'sources') }}
),

renamed as (
    select
        source as source_kind,
        shop_id,
        coalesce(configured, false) as is_configured
    from source
)

select * from renamed
