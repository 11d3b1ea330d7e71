{#- Converting money into the reporting currency ([currency] reporting, CNY by default), written once for every
    model that converts (order lines, ad spend, the set-aside check, settlement reconciliation): the rate of
    `day` for `currency` from int_fx_rates, 1 when `currency` is the reporting currency, null when there is no
    rate (the caller sets such rows aside; never 0).

    In a model: `{{ fx_rate('lines.currency') }} as fx_rate` in the select list and
    `{{ join_fx_rates('lines.currency', 'lines.order_date') }}` after the from clause. -#}

{% macro join_fx_rates(currency, day) -%}
    cross join {{ ref('stg_config__settings') }} as fx_settings
    left join {{ ref('int_fx_rates') }} as fx_rates
        on fx_rates.currency = {{ currency }}
        and fx_rates.rate_date = {{ day }}
{%- endmacro %}

{% macro fx_rate(currency) -%}
    case
        when {{ currency }} = fx_settings.reporting_currency then cast(1 as decimal(18, 6))
        else fx_rates.rate
    end
{%- endmacro %}
