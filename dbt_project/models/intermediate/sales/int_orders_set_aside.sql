{#- Orders the build sets aside, each with the reason and the fix: a status the staging model does not map
    (order_status null: the platform added one, or an export uses a text its mapping does not list; the reason
    quotes platform_status), or a currency without an exchange rate for the order's day into the reporting currency (int_fx_rates)
    (or no currency at all). Their lines and refunds are
    left out with them; marts.set_aside_rows lists them for the data-status page. -#}
with stacked as (
    select * from {{ ref('int_orders_stacked') }}
),

checked as (
    select
        stacked.order_id,
        stacked.shop_id,
        stacked.channel,
        stacked.origin,
        stacked.order_date,
        stacked.currency,
        stacked.platform_status,
        stacked.order_status is null as has_unknown_status,
        -- an order without a currency cannot be converted either
        {{ fx_rate('stacked.currency') }} is null as has_no_rate,
        fx_settings.reporting_currency
    from stacked
    {{ join_fx_rates('stacked.currency', 'stacked.order_date') }}
),

final as (
    select
        order_id,
        shop_id,
        channel,
        origin,
        case
            when has_unknown_status then
                'status ' || coalesce('''' || platform_status || '''', '(none sent)') || ' of ' || channel
                || ' not recognised: map it in the channel''s staging model (or the export''s status text in its '
                || 'mapping)'
            when currency is null then
                'no currency on the order: set the shop''s currency in shopkeep.toml ([[shops]] currency) or the '
                || 'export''s currency column'
            else
                'no exchange rate for ' || currency || ' into ' || reporting_currency || ' in '
                || left(cast(order_date as varchar), 7)
                || ': add the month''s (or the day''s) rate to the rates file ([currency] rates_file in '
                || 'shopkeep.toml: currency,month,rate)'
        end as reason
    from checked
    where has_unknown_status or has_no_rate
)

select * from final
