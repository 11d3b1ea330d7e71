{#- One row per Shopify Payments payout: the transfer of a batch of balance transactions to the bank, with its
    summary by kind (fees are positive amounts Shopify kept). -#}
with source as (
    select * from {{ raw_source('raw_shopify', 'payouts') }}
),

renamed as (
    select
        shop_id || ':' || cast(id as varchar) as payout_id,
        shop_id,
        cast(id as varchar) as platform_payout_id,
        status as payout_status,
        cast(date as date) as payout_date,
        currency,
        cast(amount as decimal(18, 2)) as amount,
        cast(coalesce(summary__charges_gross_amount, 0) as decimal(18, 2)) as charges_gross_amount,
        cast(coalesce(summary__charges_fee_amount, 0) as decimal(18, 2)) as charges_fee_amount,
        cast(coalesce(summary__refunds_gross_amount, 0) as decimal(18, 2)) as refunds_gross_amount,
        cast(coalesce(summary__refunds_fee_amount, 0) as decimal(18, 2)) as refunds_fee_amount,
        cast(coalesce(summary__adjustments_gross_amount, 0) as decimal(18, 2)) as adjustments_gross_amount,
        cast(coalesce(summary__adjustments_fee_amount, 0) as decimal(18, 2)) as adjustments_fee_amount
    from source
)

select * from renamed
