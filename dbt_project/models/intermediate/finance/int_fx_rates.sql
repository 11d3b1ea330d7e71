{#- The exchange rate of every currency on every day a rate is known, into the reporting currency
    (stg_config__settings): a day's rate from the seller's rates file, else the month's from the rates file, else
    the month's from the shipped seed fx_rates (rates into CNY, turned into the reporting currency through the
    reporting currency's own rate that month: c → R = (c → CNY) / (R → CNY)). The reporting currency itself
    needs no rate (1); an amount in a currency with no rate for its day is set aside (int_orders_set_aside). -#}
with settings as (
    select * from {{ ref('stg_config__settings') }}
),

seed as (
    select
        currency,
        cast(month as date) as month,
        cast(rate_to_cny as decimal(18, 6)) as rate_to_cny
    from {{ ref('fx_rates') }}
),

own as (
    select * from {{ ref('stg_config__fx_rates') }}
),

seed_with_cny as (
    select * from seed
    union all
    select distinct
        'CNY' as currency,
        month,
        cast(1 as decimal(18, 6)) as rate_to_cny
    from seed
),

seed_months as (
    select
        rates.currency,
        rates.month,
        cast(rates.rate_to_cny / reporting.rate_to_cny as decimal(18, 6)) as rate
    from seed_with_cny as rates
    cross join settings
    inner join seed_with_cny as reporting
        on reporting.month = rates.month
        and reporting.currency = settings.reporting_currency
    where rates.currency <> settings.reporting_currency
),

months as (
    select
        currency,
        starts_on as month,
        rate,
        'rates_file' as rate_source
    from own
    where period = 'month'
    union all
    select
        seed_months.currency,
        seed_months.month,
        seed_months.rate,
        'seed' as rate_source
    from seed_months
    left join own
        on own.period = 'month'
        and own.currency = seed_months.currency
        and own.starts_on = seed_months.month
    where own.currency is null
),

month_days as (
    select
        months.currency,
        cast(unnest(generate_series(
            months.month, cast(months.month + interval 1 month - interval 1 day as date), interval 1 day
        )) as date) as rate_date,
        months.rate,
        months.rate_source
    from months
),

final as (
    select
        currency,
        starts_on as rate_date,
        rate,
        'rates_file' as rate_source
    from own
    where period = 'day'
    union all
    select month_days.*
    from month_days
    left join own
        on own.period = 'day'
        and own.currency = month_days.currency
        and own.starts_on = month_days.rate_date
    where own.currency is null
)

select
    final.*,
    settings.reporting_currency
from final
cross join settings
where final.currency <> settings.reporting_currency
