{#- Every row the build set aside rather than fail or count wrongly — an order with a status no mapping knows
    or a currency without the month's exchange rate, a refund whose order the warehouse does not count, ad spend in a currency without a rate — with
    the shop, the platform key, where it came from and what to fix. Rows an importer refused (a file's bad rows)
    are in quarantined_rows. -#}
with orders as (
    select * from {{ ref('int_orders_set_aside') }}
),

refunds as (
    select * from {{ ref('int_refunds_set_aside') }}
),

ad_spend as (
    select * from {{ ref('int_ad_spend') }}
    where fx_rate is null
),

unioned as (
    select
        'order' as entity,
        order_id as row_key,
        shop_id,
        origin,
        reason
    from orders
    union all
    select
        'refund' as entity,
        refund_id as row_key,
        shop_id,
        cast(null as varchar) as origin,
        reason
    from refunds
    union all
    select
        'ad_spend' as entity,
        ad_spend_id as row_key,
        shop_id,
        source_file as origin,
        'no exchange rate for ' || currency || ' on ' || cast(spend_date as varchar)
            || ' — add it to the rates file ([currency] rates_file)' as reason
    from ad_spend
),

final as (
    select
        entity || '|' || row_key as set_aside_row_id,
        entity,
        row_key,
        shop_id,
        origin,
        reason
    from unioned
)

select * from final
