with source as (
    select * from {{ raw_source('raw_douyin', 'orders') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        source.shop_id || ':' || source.order_id as order_id,
        source.shop_id,
        source.order_id as platform_order_id,
        to_timestamp(source.create_time) as created_at,
        case when source.pay_time > 0 then to_timestamp(source.pay_time) end as paid_at,
        case when source.ship_time > 0 then to_timestamp(source.ship_time) end as shipped_at,
        case when source.finish_time > 0 then to_timestamp(source.finish_time) end as completed_at,
        -- 4 = closed: never paid means cancelled; closed after payment means fully refunded
        case
            when source.order_status = 4 and coalesce(source.pay_time, 0) = 0 then to_timestamp(source.update_time)
        end as cancelled_at,
        to_timestamp(source.update_time) as updated_at,
        case
            when source.order_status = 4 and coalesce(source.pay_time, 0) > 0 then 'refunded'
            when source.order_status = 4 then 'cancelled'
            -- refunded in full before shipping, after shipping, after receipt
            when source.order_status in (21, 22, 39) then 'refunded'
            when source.order_status = 5 then 'completed'
            when source.order_status in (3, 101) then 'shipped'  -- 101: part shipped
            when source.order_status in (2, 105) then 'paid'  -- 105: paid, 2: being prepared
            when source.order_status in (1, 103) then 'pending_payment'  -- 103: part paid
        end as order_status,  -- a status Douyin adds later: null, and the order is set aside saying which
        cast(source.order_status as varchar) as platform_status,
        shops.currency,
        cast(source.order_amount / 100 as decimal(18, 2)) as list_amount,
        -- promotion amounts and postage are left out when zero
        cast(coalesce(source.promotion_shop_amount, 0) / 100 as decimal(18, 2)) as merchant_discount,
        cast(coalesce(source.promotion_platform_amount, 0) / 100 as decimal(18, 2)) as platform_discount,
        cast(coalesce(source.post_amount, 0) / 100 as decimal(18, 2)) as shipping_amount,
        cast(source.pay_amount / 100 as decimal(18, 2)) as paid_amount,
        source.shop_id || ':' || coalesce(source.doudian_open_id, 'unknown') as buyer_key,
        nullif(source.post_addr__province__name, '') as province,
        nullif(source.post_addr__city__name, '') as city,
        -- the street address arrives masked (hashed at the connector); only whether it is there, and its hash, are kept
        source.post_addr__encrypt_detail is not null as has_address_detail,
        source.post_addr__encrypt_detail as address_key,
        coalesce(source.buyer_words, '') as buyer_remark,
        coalesce(source.seller_words, '') as seller_remark,
        shops.timezone
    from source
    inner join shops on source.shop_id = shops.shop_id
),

final as (
    select
        order_id,
        shop_id,
        platform_order_id,
        created_at,
        paid_at,
        shipped_at,
        completed_at,
        cancelled_at,
        updated_at,
        order_status,
        platform_status,
        currency,
        list_amount,
        merchant_discount,
        platform_discount,
        shipping_amount,
        paid_amount,
        buyer_key,
        province,
        city,
        has_address_detail,
        address_key,
        buyer_remark,
        seller_remark,
        {{ local_date('created_at', 'timezone') }} as order_date
    from renamed
)

select * from final
