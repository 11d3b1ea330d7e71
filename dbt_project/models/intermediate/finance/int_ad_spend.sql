{#- Ad spend per shop, day and plan converted to the reporting currency with the rate of the spend date
    (int_fx_rates, as sales convert); fx_rate is null where the currency has no rate that day — such rows are
    set aside (set_aside_rows), not counted as 0. -#}
with ad_spend as (
    select * from {{ ref('stg_files__ad_spend') }}
),

final as (
    select
        ad_spend.*,
        {{ fx_rate('ad_spend.currency') }} as fx_rate
    from ad_spend
    {{ join_fx_rates('ad_spend.currency', 'ad_spend.spend_date') }}
)

select * from final
