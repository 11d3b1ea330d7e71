{#- The build's settings from shopkeep.toml, one row: the reporting currency every mart's money is in
    ([currency] reporting; the var reporting_currency when the config asset has not run). -#}
with source as (
    select * from {{ raw_source('raw_config', 'settings') }}
),

final as (
    select coalesce(max(reporting_currency), '{{ var("reporting_currency") }}') as reporting_currency
    from source
)

select * from final
