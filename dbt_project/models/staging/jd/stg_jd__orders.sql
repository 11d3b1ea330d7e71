with source as (
    select * from {{ raw_source('raw_jd', 'orders') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        shop_id || ':' || order_id as order_id,
        shop_id,
        order_id as platform_order_id,
        cast(order_start_time || '+08:00' as timestamptz) as created_at,
        cast(payment_confirm_time || '+08:00' as timestamptz) as paid_at,
        cast(outbound_time || '+08:00' as timestamptz) as shipped_at,
        cast(order_end_time || '+08:00' as timestamptz) as completed_at,
        cast(cancel_time || '+08:00' as timestamptz) as cancelled_at,
        cast(modified || '+08:00' as timestamptz) as updated_at,
        case
            when order_state = 'TRADE_CANCELED' and payment_confirm_time is not null then 'refunded'
            when order_state = 'TRADE_CANCELED' then 'cancelled'
            when order_state = 'FINISHED_L' then 'completed'
            when order_state = 'WAIT_GOODS_RECEIVE_CONFIRM' then 'shipped'
            -- paid, not yet out of the warehouse (WAIT_SELLER_DELIVERY: cross-border, awaiting domestic
            -- dispatch; WAIT_SEND_CODE: local-service orders awaiting their code; locked or paused by JD)
            when order_state in (
                'WAIT_SELLER_STOCK_OUT', 'WAIT_SELLER_DELIVERY', 'WAIT_SEND_CODE', 'LOCKED', 'PAUSE', 'POP_ORDER_PAUSE'
            ) then 'paid'
            when order_state in ('WAIT_PAY', 'NOT_PAY') then 'pending_payment'
        end as order_status,  -- a state JD adds later: null, and the order is set aside saying which
        order_state as platform_status,
        'CNY' as currency,
        cast(order_total_price as decimal(18, 2)) as list_amount,
        -- sellerDiscount and freightPrice are left out when zero
        cast(coalesce(seller_discount, 0) as decimal(18, 2)) as merchant_discount,
        cast(order_total_price - coalesce(seller_discount, 0) + coalesce(freight_price, 0) - order_payment as decimal(18, 2))
            as platform_discount,
        cast(coalesce(freight_price, 0) as decimal(18, 2)) as shipping_amount,
        cast(order_payment as decimal(18, 2)) as paid_amount,
        shop_id || ':' || coalesce(pin, 'guest') as buyer_key,
        consignee_info__province as province,
        consignee_info__city as city,
        -- fullAddress (province + city + county + street, hashed at the connector) can't show a missing street:
        -- the connector records whether the street part was there before hashing
        coalesce(consignee_info__has_address_detail, consignee_info__full_address is not null) as has_address_detail,
        consignee_info__full_address as address_key,
        order_remark as buyer_remark,
        vender_remark as seller_remark
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
