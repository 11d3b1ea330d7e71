{#- Ad spend per shop, day and plan converted to the reporting currency with the rate of the spend date
    (int_fx_rates, as sales convert); fx_rate is null where the currency has no rate that day — such rows are
    set aside (set_aside_rows), not counted as 0. -#}
with ad_spend as (
    select * from {{ ref('stg_files__ad_spend') }}
),

fx_rates as (
    select * from {{ ref('int_fx_rates') }}
),

settings as (
    select * from {{ ref('stg_config__settings') }}
),

final as (
    select
        ad_spend.*,
        case
            when ad_spend.currency = settings.reporting_currency then cast(1 as decimal(18, 6))
            else fx_rates.rate
        end as fx_rate
    from ad_spend
    cross join settings
    left join fx_rates
        on fx_rates.currency = ad_spend.currency
        and fx_rates.rate_date = ad_spend.spend_date
)

select * from final
