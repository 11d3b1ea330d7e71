with source as (
    select * from {{ raw_source('raw_shopify', 'orders') }}
),

shipping as (
    select
        _dlt_root_id,
        sum(cast(price as decimal(18, 2))) as shipping_amount
    from {{ raw_source('raw_shopify', 'orders__shipping_lines') }}
    group by 1
),

-- what the lines list, for an order whose total_line_items_price is not sent
line_totals as (
    select
        _dlt_parent_id,
        sum(cast(price as decimal(18, 2)) * quantity) as line_items_price
    from {{ raw_source('raw_shopify', 'orders__line_items') }}
    group by 1
),

fulfillments as (
    select
        _dlt_root_id,
        min(cast(created_at as timestamptz)) as shipped_at
    from {{ raw_source('raw_shopify', 'orders__fulfillments') }}
    group by 1
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        source._dlt_id as _dlt_id,
        source.shop_id || ':' || cast(source.id as varchar) as order_id,
        source.shop_id,
        cast(source.id as varchar) as platform_order_id,
        source.name as order_number,
        cast(source.created_at as timestamptz) as created_at,
        cast(source.updated_at as timestamptz) as updated_at,
        case
            when source.financial_status in ('paid', 'partially_paid', 'partially_refunded', 'refunded')
                -- processed_at may be missing (it is optional on imported orders): then the order's creation
                then coalesce(cast(source.processed_at as timestamptz), cast(source.created_at as timestamptz))
        end as paid_at,
        fulfillments.shipped_at,
        cast(source.closed_at as timestamptz) as completed_at,
        cast(source.cancelled_at as timestamptz) as cancelled_at,
        source.financial_status,
        source.fulfillment_status,
        case
            when source.financial_status = 'refunded' then 'refunded'
            when source.cancelled_at is not null then 'cancelled'
            when source.financial_status in ('pending', 'authorized', 'voided', 'expired') then 'pending_payment'
            when coalesce(source.financial_status, '') not in ('paid', 'partially_paid', 'partially_refunded') then null
            when source.closed_at is not null then 'completed'
            -- fulfillment_status may be left out: a fulfilment on the order still means it shipped
            when source.fulfillment_status in ('fulfilled', 'partial') or fulfillments.shipped_at is not null
                then 'shipped'
            else 'paid'
        end as order_status,  -- a financial status Shopify adds later (or none): null, set aside saying which
        source.financial_status as platform_status,
        source.currency,
        cast(source.total_price as decimal(18, 2)) as total_price,
        cast(coalesce(source.total_line_items_price, line_totals.line_items_price) as decimal(18, 2)) as list_amount,
        cast(coalesce(source.total_discounts, 0) as decimal(18, 2)) as merchant_discount,
        cast(0 as decimal(18, 2)) as platform_discount,
        cast(coalesce(shipping.shipping_amount, 0) as decimal(18, 2)) as shipping_amount,
        cast(source.total_price as decimal(18, 2)) as paid_amount,
        source.customer__id as buyer_platform_id,
        source.shop_id || ':' || coalesce(cast(source.customer__id as varchar), source.email, 'guest') as buyer_key,
        source.shipping_address__province as province,
        source.shipping_address__city as city,
        -- the street address arrives masked (hashed at the connector); only whether it is there, and its hash, are kept
        source.shipping_address__address1 is not null as has_address_detail,
        source.shipping_address__address1 as address_key,
        source.shipping_address__country as country,
        source.note as buyer_remark,
        cast(null as varchar) as seller_remark
    from source
    left join shipping on shipping._dlt_root_id = source._dlt_id
    left join fulfillments on fulfillments._dlt_root_id = source._dlt_id
    left join line_totals on line_totals._dlt_parent_id = source._dlt_id
),

final as (
    select
        renamed.*,
        {{ local_date('renamed.created_at', 'shops.timezone') }} as order_date
    from renamed
    inner join shops on renamed.shop_id = shops.shop_id
)

select * from final
