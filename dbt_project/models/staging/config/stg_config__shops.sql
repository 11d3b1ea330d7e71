with source as (
    select * from {{ raw_source('raw_config', 'shops') }}
),

renamed as (
    select
        shop_id,
        name as shop_name,
        channel,
        currency,
        timezone,
        enabled as is_enabled,
        -- the shop's own terms from shopkeep.toml; null = its channel's default (int_shop_terms_resolved)
        cast(commission_rate as decimal(10, 4)) as commission_rate,
        cast(service_fee_rate as decimal(10, 4)) as service_fee_rate,
        cast(affiliate_commission_rate as decimal(10, 4)) as affiliate_commission_rate,
        cast(settlement_lag_days as integer) as settlement_lag_days,
        carrier,
        cast(ship_promise_hours as integer) as ship_promise_hours
    from source
)

select * from renamed
