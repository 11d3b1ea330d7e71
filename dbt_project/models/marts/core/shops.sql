with shops as (
    select * from {{ ref('stg_config__shops') }}
),

final as (
    select
        shop_id,
        shop_name,
        channel,
        currency,
        timezone
    from shops
)

select * from final
