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
        enabled as is_enabled
    from source
)

select * from renamed
