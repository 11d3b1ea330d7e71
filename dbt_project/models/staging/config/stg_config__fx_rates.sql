{#- The seller's own exchange rates ([currency] rates_file): per currency, a month's rate or a day's, in the
    reporting currency. int_fx_rates lays them over the shipped seed. -#}
with source as (
    select * from {{ raw_source('raw_config', 'fx_rates') }}
),

renamed as (
    select
        upper(currency) as currency,
        period,
        cast(starts_on as date) as starts_on,
        cast(rate as decimal(18, 6)) as rate,
        cast(source_row as integer) as source_row
    from source
)

select * from renamed
