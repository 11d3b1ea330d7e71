with source as (
    select * from {{ raw_source('raw_product_master', 'promotions') }}
),

exploded as (
    select
        promo_id,
        trim(unnest(string_split(skus, ','))) as sku
    from source
),

renamed as (
    select distinct
        {{ dbt.concat(["promo_id", "'|'", "sku"]) }} as promotion_sku_id,
        promo_id,
        sku
    from exploded
    where sku <> ''
)

select * from renamed
