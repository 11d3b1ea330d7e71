with source as (
    select * from {{ raw_source('raw_taobao', 'orders') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        source.shop_id || ':' || cast(source.tid as varchar) as order_id,
        source.shop_id,
        cast(source.tid as varchar) as platform_order_id,
        -- TOP times are GMT+8 wall-clock strings
        cast(source.created || '+08:00' as timestamptz) as created_at,
        cast(source.pay_time || '+08:00' as timestamptz) as paid_at,
        cast(source.consign_time || '+08:00' as timestamptz) as shipped_at,
        case when source.status = 'TRADE_FINISHED' then cast(source.end_time || '+08:00' as timestamptz) end
            as completed_at,
        case when source.status = 'TRADE_CLOSED_BY_TAOBAO' then cast(source.end_time || '+08:00' as timestamptz) end
            as cancelled_at,
        cast(source.modified || '+08:00' as timestamptz) as updated_at,
        case source.status
            when 'WAIT_BUYER_PAY' then 'pending_payment'
            when 'WAIT_SELLER_SEND_GOODS' then 'paid'
            when 'SELLER_CONSIGNED_PART' then 'shipped'
            when 'WAIT_BUYER_CONFIRM_GOODS' then 'shipped'
            when 'TRADE_BUYER_SIGNED' then 'shipped'
            when 'TRADE_FINISHED' then 'completed'
            when 'TRADE_CLOSED' then 'refunded'
            when 'TRADE_CLOSED_BY_TAOBAO' then 'cancelled'
        end as order_status,  -- a status TOP adds later: null, and the order is set aside saying which
        source.status as platform_status,
        shops.currency,
        cast(source.total_fee as decimal(18, 2)) as list_amount,
        cast(coalesce(source.discount_fee, 0) as decimal(18, 2)) as merchant_discount,
        cast(coalesce(source.coupon_fee, 0) as decimal(18, 2)) as platform_discount,
        cast(coalesce(source.post_fee, 0) as decimal(18, 2)) as shipping_amount,
        cast(source.payment as decimal(18, 2)) as paid_amount,
        source.shop_id || ':' || coalesce(source.buyer_open_uid, 'unknown') as buyer_key,
        source.receiver_state as province,
        source.receiver_city as city,
        -- the street address arrives masked (hashed at the connector); only whether it is there, and its hash, are kept
        source.receiver_address is not null as has_address_detail,
        source.receiver_address as address_key,
        nullif(source.buyer_message, '') as buyer_remark,
        nullif(source.seller_memo, '') as seller_remark,
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
