{#- Orders the build sets aside, each with the reason and the fix: a status the staging model does not map
    (order_status null: the platform added one, or an export uses a text its mapping does not list), or a
    currency without an exchange rate for the order's month in seeds/fx_rates.csv. Their lines and refunds are
    left out with them; marts.set_aside_rows lists them for the data-status page. -#}
with stacked as (
    select * from {{ ref('int_orders_stacked') }}
),

fx_rates as (
    select * from {{ ref('fx_rates') }}
),

checked as (
    select
        stacked.order_id,
        stacked.shop_id,
        stacked.channel,
        stacked.origin,
        stacked.order_date,
        stacked.currency,
        stacked.order_status is null as has_unknown_status,
        stacked.currency <> '{{ var("reporting_currency") }}' and fx_rates.rate_to_cny is null as has_no_rate
    from stacked
    left join fx_rates
        on fx_rates.currency = stacked.currency
        and fx_rates.month = {{ dbt.date_trunc('month', 'stacked.order_date') }}
),

final as (
    select
        order_id,
        shop_id,
        channel,
        origin,
        case
            when has_unknown_status then
                'status not recognised: map the platform''s status in the channel''s staging model (or the export''s '
                || 'status text in its mapping)'
            else
                'no exchange rate for ' || coalesce(currency, '(no currency)') || ' in '
                || left(cast(order_date as varchar), 7)
                || ': add the month''s rate to seeds/fx_rates.csv'
        end as reason
    from checked
    where has_unknown_status or has_no_rate
)

select * from final
