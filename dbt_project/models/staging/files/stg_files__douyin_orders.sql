{#- Douyin orders from the back-office export: the export has one row per order line, with the
    order's fields repeated; an order's amounts are the sums of its lines plus its shipping. -#}
with source as (
    select * from {{ raw_source('raw_files', 'douyin_orders') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

orders as (
    select
        shop_id,
        order_id as platform_order_id,
        min(order_status_text) as order_status_text,
        min(created_at) as created_at,
        min(paid_at) as paid_at,
        min(shipped_at) as shipped_at,
        min(completed_at) as completed_at,
        min(closed_at) as closed_at,
        sum(cast(unit_price * quantity as decimal(18, 2))) as list_amount,
        sum(line_merchant_discount) as merchant_discount,
        sum(line_platform_discount) as platform_discount,
        max(shipping_amount) as shipping_amount,
        max(order_paid_amount) as paid_amount,
        max(buyer_id_hash) as buyer_id_hash,
        max(province) as province,
        max(city) as city,
        max(address_hash) as address_hash,
        max(buyer_remark) as buyer_remark,
        max(seller_remark) as seller_remark
    from source
    group by shop_id, order_id
),

statused as (
    select
        orders.*,
        case
            when order_status_text = '待支付' then 'pending_payment'
            when order_status_text = '备货中' then 'paid'
            when order_status_text = '已发货' then 'shipped'
            when order_status_text = '已完成' then 'completed'
            when order_status_text = '已关闭' and paid_at is not null then 'refunded'
            when order_status_text = '已关闭' then 'cancelled'
        end as order_status
    from orders
),

final as (
    select
        statused.shop_id || ':' || statused.platform_order_id as order_id,
        statused.shop_id,
        statused.platform_order_id,
        cast(statused.created_at as timestamptz) as created_at,
        cast(statused.paid_at as timestamptz) as paid_at,
        cast(statused.shipped_at as timestamptz) as shipped_at,
        cast(statused.completed_at as timestamptz) as completed_at,
        cast(case when statused.order_status = 'cancelled' then statused.closed_at end as timestamptz) as cancelled_at,
        cast(greatest(
            statused.created_at,
            coalesce(statused.paid_at, statused.created_at),
            coalesce(statused.shipped_at, statused.created_at),
            coalesce(statused.completed_at, statused.created_at),
            coalesce(statused.closed_at, statused.created_at)
        ) as timestamptz) as updated_at,
        statused.order_status,
        statused.order_status_text as platform_status,
        shops.currency,
        cast(statused.list_amount as decimal(18, 2)) as list_amount,
        cast(statused.merchant_discount as decimal(18, 2)) as merchant_discount,
        cast(statused.platform_discount as decimal(18, 2)) as platform_discount,
        cast(coalesce(statused.shipping_amount, 0) as decimal(18, 2)) as shipping_amount,
        cast(statused.paid_amount as decimal(18, 2)) as paid_amount,
        statused.shop_id || ':' || statused.buyer_id_hash as buyer_key,
        statused.province,
        statused.city,
        -- the street address is hashed by the importer (pii: true); only its presence and hash are kept
        statused.address_hash is not null as has_address_detail,
        statused.address_hash as address_key,
        statused.buyer_remark,
        statused.seller_remark,
        {{ local_date('statused.created_at', 'shops.timezone') }} as order_date
    from statused
    inner join shops on statused.shop_id = shops.shop_id
)

select * from final
