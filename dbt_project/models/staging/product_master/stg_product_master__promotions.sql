with source as (
    select * from {{ raw_source('raw_product_master', 'promotions') }}
),

renamed as (
    select
        promo_id,
        shop_id,
        name as promo_name,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        -- a fraction (0.20 = 20 % off); a whole number typed as a percentage (20) is read as 20 %
        cast(
            case when discount_pct > 1 then discount_pct / 100 else discount_pct end
            as decimal(18, 4)
        ) as discount_pct,
        cast(coalesce(spend, 0) as decimal(18, 2)) as spend_cny
    from source
)

select * from renamed
