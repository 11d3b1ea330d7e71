{#- Orders from exports of any layout (raw_files.orders: one row per order line, the order's own fields repeated
    on each line, the status already value-mapped by the file's mapping). An order's amounts are its lines' sums
    plus its shipping, unless the export gives the order's paid total. A `closed` order (the marketplaces'
    交易关闭 / 已取消) is refunded when it was paid, otherwise cancelled; a mapping that says `cancelled` means it,
    and a cancelled order has no payment.
    The currency is the file's (a column or a mapping constant), else the shop's. -#}
{#- A table, not a view as staging models are: as a view, each of its data tests and each model reading it
    grouped the export's lines into orders again. Incremental: a run groups again only the orders whose export lines changed — their count or the sum of their
    hashes (`lines_signature`) differs, a file added, replaced or removed — and drops the orders no export holds
    any more; a change to the shops (currency, timezone) groups them all again. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='sync_all_columns',
    post_hook="""
        delete from {{ this }}
        where order_id not in (
            select shop_id || ':' || order_id from {{ raw_source('raw_files', 'orders') }}
        )
    """,
) }}

{%- set shops_signature = table_hash(ref('stg_config__shops')) %}
{#- a table built before it recorded signatures (an older shopkeep) is grouped again whole -#}
{%- set signed = has_column('lines_signature') %}

with raw_lines as (
    select
        *,
        shop_id || ':' || order_id as canonical_order_id,
        hash(raw_rows) as line_hash
    from {{ raw_source('raw_files', 'orders') }} as raw_rows
),

{% if signed %}
changed_orders as (
    select current_signatures.canonical_order_id as order_id
    from (
        select canonical_order_id, hash(count(*), sum(line_hash), {{ shops_signature }}) as lines_signature
        from raw_lines
        group by 1
    ) as current_signatures
    left join {{ this }} as built on current_signatures.canonical_order_id = built.order_id
    where built.lines_signature is distinct from current_signatures.lines_signature
),
{% endif %}

source as (
    select * from raw_lines
    {% if signed %}
        where canonical_order_id in (select order_id from changed_orders)
    {% endif %}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

orders as (
    select
        shop_id,
        order_id as platform_order_id,
        min(order_status) as order_status,
        min(platform_status) as platform_status,
        min(created_at) as created_at,
        min(paid_at) as paid_at,
        min(shipped_at) as shipped_at,
        min(completed_at) as completed_at,
        min(closed_at) as closed_at,
        min(currency) as currency,
        sum(coalesce(line_list_amount, cast(unit_price * quantity as decimal(18, 2)))) as list_amount,
        sum(coalesce(line_merchant_discount, 0)) as merchant_discount,
        sum(coalesce(line_platform_discount, 0)) as platform_discount,
        max(shipping_amount) as shipping_amount,
        max(order_paid_amount) as order_paid_amount,
        sum(line_paid_amount) as lines_paid_amount,
        count(*) filter (where line_paid_amount is null) as lines_without_paid_amount,
        max(buyer_id_hash) as buyer_id_hash,
        max(province) as province,
        max(city) as city,
        max(address_hash) as address_hash,
        max(buyer_remark) as buyer_remark,
        max(seller_remark) as seller_remark,
        hash(count(*), sum(line_hash), {{ shops_signature }}) as lines_signature
    from source
    group by shop_id, order_id
),

statused as (
    select
        orders.*,
        case
            when order_status = 'closed' and paid_at is not null then 'refunded'
            when order_status = 'closed' then 'cancelled'
            else order_status
        end as canonical_status
    from orders
),

final as (
    select
        statused.shop_id || ':' || statused.platform_order_id as order_id,
        statused.shop_id,
        statused.platform_order_id,
        cast(statused.created_at as timestamptz) as created_at,
        -- a cancelled order was never a sale: whatever payment the export shows went back in full, so it counts
        -- in no sales figure (the marts count orders with a payment)
        cast(case when statused.canonical_status != 'cancelled' then statused.paid_at end as timestamptz)
            as paid_at,
        cast(statused.shipped_at as timestamptz) as shipped_at,
        cast(statused.completed_at as timestamptz) as completed_at,
        cast(case when statused.canonical_status = 'cancelled' then statused.closed_at end as timestamptz)
            as cancelled_at,
        cast(greatest(
            statused.created_at,
            coalesce(statused.paid_at, statused.created_at),
            coalesce(statused.shipped_at, statused.created_at),
            coalesce(statused.completed_at, statused.created_at),
            coalesce(statused.closed_at, statused.created_at)
        ) as timestamptz) as updated_at,
        statused.canonical_status as order_status,
        coalesce(statused.platform_status, statused.order_status) as platform_status,
        upper(coalesce(statused.currency, shops.currency)) as currency,
        cast(statused.list_amount as decimal(18, 2)) as list_amount,
        cast(statused.merchant_discount as decimal(18, 2)) as merchant_discount,
        cast(statused.platform_discount as decimal(18, 2)) as platform_discount,
        cast(coalesce(statused.shipping_amount, 0) as decimal(18, 2)) as shipping_amount,
        cast(coalesce(
            statused.order_paid_amount,
            case when statused.lines_without_paid_amount = 0
                then statused.lines_paid_amount + coalesce(statused.shipping_amount, 0) end,
            statused.list_amount - statused.merchant_discount - statused.platform_discount
                + coalesce(statused.shipping_amount, 0)
        ) as decimal(18, 2)) as paid_amount,
        statused.shop_id || ':' || statused.buyer_id_hash as buyer_key,
        statused.province,
        statused.city,
        -- the street address is hashed by the importer (pii); only its presence and hash are kept
        statused.address_hash is not null as has_address_detail,
        statused.address_hash as address_key,
        statused.buyer_remark,
        statused.seller_remark,
        {{ local_date('statused.created_at', 'shops.timezone') }} as order_date,
        statused.lines_signature
    from statused
    inner join shops on statused.shop_id = shops.shop_id
)

select * from final
