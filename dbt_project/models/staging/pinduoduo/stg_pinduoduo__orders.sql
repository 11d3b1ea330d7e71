with source as (
    select * from {{ raw_source('raw_pinduoduo', 'orders') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        shop_id || ':' || order_sn as order_id,
        shop_id,
        order_sn as platform_order_id,
        cast(nullif(created_time, '') || '+08:00' as timestamptz) as created_at,
        cast(nullif(confirm_time, '') || '+08:00' as timestamptz) as paid_at,
        cast(nullif(shipping_time, '') || '+08:00' as timestamptz) as shipped_at,
        cast(nullif(receive_time, '') || '+08:00' as timestamptz) as completed_at,
        cast(nullif(cancel_time, '') || '+08:00' as timestamptz) as cancelled_at,
        cast(nullif(updated_at, '') || '+08:00' as timestamptz) as updated_at,
        case
            when refund_status = 4 then 'refunded'
            when order_status = 4 then 'cancelled'
            when order_status = 0 then 'pending_payment'
            when order_status = 3 then 'completed'
            when order_status = 2 then 'shipped'
            when order_status = 1 then 'paid'
        end as order_status,  -- a status PDD adds later: null, and the order is set aside saying which
        cast(order_status as varchar) as platform_status,
        'CNY' as currency,
        cast(goods_amount / 100 as decimal(18, 2)) as list_amount,
        -- discounts and postage are left out when zero
        cast(coalesce(seller_discount, 0) / 100 as decimal(18, 2)) as merchant_discount,
        cast(coalesce(platform_discount, 0) / 100 as decimal(18, 2)) as platform_discount,
        cast(coalesce(postage, 0) / 100 as decimal(18, 2)) as shipping_amount,
        cast(pay_amount / 100 as decimal(18, 2)) as paid_amount,
        shop_id || ':' || coalesce(buyer_id, 'unknown') as buyer_key,
        province,
        city,
        -- the street address arrives masked (hashed at the connector); only whether it is there, and its hash, are kept
        address is not null as has_address_detail,
        address as address_key,
        nullif(buyer_memo, '') as buyer_remark,
        nullif(remark, '') as seller_remark
    from source
),

final as (
    select
        renamed.*,
        {{ local_date('renamed.created_at', 'shops.timezone') }} as order_date
    from renamed
    inner join shops on renamed.shop_id = shops.shop_id
)

select * from final
