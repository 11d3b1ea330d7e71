{#- Each configured shop's platform terms, resolved in one place: the shop's own value from shopkeep.toml
    ([[shops]] commission_rate, service_fee_rate, affiliate_commission_rate, settlement_lag_days, carrier,
    ship_promise_hours) where it sets one, else its channel's default (seeds channel_fee_rates and
    channel_ship_promises), else — lag and promise only — vars default_settlement_lag_days and
    ship_promise_hours_default. Every model that needs a shop's fee rates, lag, carrier or ship promise reads
    them here, so any shop id works without a seed row of its own. -#}
with shops as (
    select * from {{ ref('stg_config__shops') }}
),

channel_fee_rates as (
    select * from {{ ref('channel_fee_rates') }}
),

channel_ship_promises as (
    select * from {{ ref('channel_ship_promises') }}
),

final as (
    select
        shops.shop_id,
        shops.channel,
        cast(coalesce(shops.commission_rate, channel_fee_rates.commission_rate) as decimal(10, 4))
            as commission_rate,
        cast(coalesce(shops.service_fee_rate, channel_fee_rates.service_fee_rate) as decimal(10, 4))
            as service_fee_rate,
        cast(
            coalesce(shops.affiliate_commission_rate, channel_fee_rates.affiliate_commission_rate)
            as decimal(10, 4)
        ) as affiliate_commission_rate,
        cast(
            coalesce(
                shops.settlement_lag_days,
                channel_fee_rates.settlement_lag_days,
                {{ var('default_settlement_lag_days') }}
            ) as integer
        ) as settlement_lag_days,
        coalesce(shops.carrier, channel_fee_rates.carrier) as carrier,
        cast(
            coalesce(
                shops.ship_promise_hours,
                channel_ship_promises.ship_promise_hours,
                {{ var('ship_promise_hours_default') }}
            ) as integer
        ) as ship_promise_hours,
        (
            shops.commission_rate is not null
            or shops.service_fee_rate is not null
            or shops.affiliate_commission_rate is not null
            or shops.settlement_lag_days is not null
            or shops.carrier is not null
            or shops.ship_promise_hours is not null
        ) as has_shop_overrides
    from shops
    left join channel_fee_rates on shops.channel = channel_fee_rates.channel
    left join channel_ship_promises on shops.channel = channel_ship_promises.channel
)

select * from final
