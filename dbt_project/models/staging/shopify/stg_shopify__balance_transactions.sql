{#- One row per Shopify Payments balance transaction (the store's ledger): charges with their processing fee,
    refunds, disputes, adjustments, reserves and the payouts themselves. settled_date is the local day the
    transaction was processed (the money entered or left the Shopify balance). -#}
with source as (
    select * from {{ raw_source('raw_shopify', 'balance_transactions') }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

renamed as (
    select
        source.shop_id || ':' || cast(source.id as varchar) as balance_transaction_id,
        source.shop_id,
        cast(source.id as varchar) as platform_transaction_id,
        source.type as transaction_type,
        coalesce(cast(source.test as boolean), false) as is_test,
        case
            when source.payout_id is not null then source.shop_id || ':' || cast(source.payout_id as varchar)
        end as payout_id,
        coalesce(source.payout_status, 'pending') as payout_status,
        source.currency,
        cast(source.amount as decimal(18, 2)) as amount,
        cast(coalesce(source.fee, 0) as decimal(18, 2)) as fee,
        cast(coalesce(source.net, source.amount - coalesce(source.fee, 0)) as decimal(18, 2)) as net,
        cast(source.source_id as varchar) as platform_source_id,
        source.source_type,
        case
            when source.source_order_id is not null
                then source.shop_id || ':' || cast(source.source_order_id as varchar)
        end as order_id,
        cast(source.source_order_transaction_id as varchar) as platform_order_transaction_id,
        cast(source.processed_at as timestamptz) as processed_at,
        {{ local_date('cast(source.processed_at as timestamptz)', 'shops.timezone') }} as settled_date
    from source
    inner join shops on source.shop_id = shops.shop_id
)

select * from renamed
