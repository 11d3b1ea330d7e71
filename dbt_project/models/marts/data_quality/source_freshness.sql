{#- How fresh each source is: per raw table and shop, when dlt last wrote rows to it and how many it holds, at
    the time of this build. Channel APIs and the WMS are pulled on a schedule, so a table whose last rows are
    older than var source_stale_after_hours is stale; exports and the product master arrive when someone drops
    a file, so they are never stale by age (is_stale is null). -#}
with loads as (
    select * from {{ ref('stg_dlt__table_loads') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

classified as (
    select
        loads.*,
        case
            when source_name = 'raw_files' then 'export'
            when source_name = 'raw_product_master' then 'product_master'
            when source_name = 'raw_wms' then 'wms'
            else 'api'
        end as source_kind,
        case
            when source_name = 'raw_files' then shops.channel  -- an export's channel is its shop's
            when source_name in ('raw_wms', 'raw_product_master') then null
            else replace(source_name, 'raw_', '')
        end as channel
    from loads
    left join shops on loads.shop_id = shops.shop_id
),

final as (
    select
        source_name || '|' || table_name || '|' || coalesce(shop_id, '') as source_freshness_id,
        source_name,
        table_name,
        source_kind,
        channel,
        shop_id,
        row_count,
        first_loaded_at,
        last_loaded_at,
        {{ clock() }} as checked_at,
        cast(
            {{ dbt.datediff('last_loaded_at', clock(), 'minute') }} as double
        ) / 60 as hours_since_last_load,
        case
            when source_kind in ('api', 'wms')
                then {{ dbt.datediff('last_loaded_at', clock(), 'minute') }}
                    > {{ var('source_stale_after_hours') }} * 60
        end as is_stale
    from classified
)

select * from final
