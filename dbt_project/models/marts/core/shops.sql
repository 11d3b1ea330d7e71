with shops as (
    select * from {{ ref('stg_config__shops') }}
),

settings as (
    select * from {{ ref('stg_config__settings') }}
),

final as (
    select
        shop_id,
        shop_name,
        channel,
        shops.currency,
        shops.timezone,
        settings.reporting_currency
    from shops
    cross join settings
)

select * from final
