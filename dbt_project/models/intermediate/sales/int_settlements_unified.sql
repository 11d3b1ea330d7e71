{#- Every channel's settlement lines in the canonical shape (signed amounts, shop currency). The marketplaces'
    bill lines: the platforms serve only months of bills online, so older ones come from the sellers' bill
    exports (账单); where both have a bill line (same shop and platform bill line id), the API's copy wins. A line
    the platform booked twice stays twice (its settlement_line_id carries a suffix): reconciliation flags it.
    Shopify's are its Shopify Payments balance transactions that name an order: a charge is the order's income
    line plus a service_fee line for the fee Shopify kept (id '<transaction>:fee'), a refund or a dispute
    (chargeback) a refund line, any other an adjustment; payouts and reserves move money, not an order's. -#}
with marketplace_api as (
    {{ union_channels('settlements') }}
),

shopify_transactions as (
    select * from {{ ref('stg_shopify__balance_transactions') }}
    where order_id is not null and not is_test
),

shopify_lines as (
    select
        'shopify' as channel,
        'api' as origin,
        balance_transaction_id as settlement_line_id,
        platform_transaction_id as platform_bill_line_id,
        shop_id,
        order_id,
        case
            when transaction_type = 'charge' then 'income'
            when transaction_type in ('refund', 'dispute') then 'refund'
            else 'adjustment'
        end as bill_type,
        amount,
        settled_date
    from shopify_transactions
    union all
    select
        'shopify' as channel,
        'api' as origin,
        balance_transaction_id || ':fee' as settlement_line_id,
        platform_transaction_id || ':fee' as platform_bill_line_id,
        shop_id,
        order_id,
        'service_fee' as bill_type,
        -fee as amount,
        settled_date
    from shopify_transactions
    where fee != 0
),

api as (
    select * from marketplace_api
    union all
    select * from shopify_lines
),

files as (
    {{ union_files('settlements') }}
),

api_lines as (
    select distinct shop_id, platform_bill_line_id from api
),

unified as (
    select * from api
    union all
    select files.* from files
    left join api_lines
        on files.shop_id = api_lines.shop_id
        and files.platform_bill_line_id = api_lines.platform_bill_line_id
    where api_lines.platform_bill_line_id is null
)

select * from unified
