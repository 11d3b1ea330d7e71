{#- One row per paid order with its buyer (masked, per platform) and whether it was the buyer's first order in
    the loaded history (new) or a later one (repeat). Lines whose code matches no product-master SKU count like
    any other; has_unmapped_sku flags their orders. -#}
{#- Incremental by buyer (macros/incremental_by_signature.sql): a buyer's rows depend only on the buyer's own paid
    orders (their sequence, the days between them), so a buyer's signature is the chain versions of those orders
    and of their lines (which hash the order, its lines and refunds, the product master, rates and settings); an
    hourly run rebuilds the buyers whose orders came, changed or went — a backdated order renumbers its buyer's
    later orders. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        with line_versions as (
            select order_id, min(order_version) as version
            from {{ ref('int_order_lines_enriched') }}
            group by 1
        )

        select
            orders.buyer_key as customer_id,
            hash(count(*), sum(hash(orders.order_id, orders.order_version, line_versions.version))) as signature
        from {{ ref('int_orders_unified') }} as orders
        left join line_versions on orders.order_id = line_versions.order_id
        where orders.paid_at is not null
            and orders.buyer_key is not null
        group by 1
    """,
    post_hook="{{ save_signatures('customer_id') }}",
) }}

{%- set changed_buyers = changed_keys('customer_id') %}

with orders as (
    select * from {{ ref('int_orders_unified') }}
    where paid_at is not null
        and buyer_key is not null
        and {{ only_rebuilt('customer_id', 'buyer_key') }}
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    {% if changed_buyers %}where order_id in (select order_id from orders){% endif %}
),

order_money as (
    select
        order_id,
        sum(quantity) as units,
        sum(paid_amount_cny) as net_sales_cny,
        sum(refund_amount_cny) as refunds_cny,
        bool_or(not is_mapped) as has_unmapped_sku
    from lines
    group by 1
),

sequenced as (
    select
        orders.order_id,
        orders.buyer_key as customer_id,
        orders.shop_id,
        orders.channel,
        orders.order_date,
        orders.created_at,
        orders.order_status,
        row_number() over (partition by orders.buyer_key order by orders.created_at, orders.order_id)
            as order_sequence,
        lag(orders.order_date) over (partition by orders.buyer_key order by orders.created_at, orders.order_id)
            as previous_order_date,
        coalesce(order_money.units, 0) as units,
        coalesce(order_money.net_sales_cny, 0) as net_sales_cny,
        coalesce(order_money.refunds_cny, 0) as refunds_cny,
        coalesce(order_money.has_unmapped_sku, false) as has_unmapped_sku
    from orders
    left join order_money on order_money.order_id = orders.order_id
),

final as (
    select
        order_id,
        customer_id,
        shop_id,
        channel,
        order_date,
        created_at,
        order_status,
        cast(order_sequence as integer) as order_sequence,
        case when order_sequence = 1 then 'new' else 'repeat' end as customer_type,
        cast(order_date - previous_order_date as integer) as days_since_previous_order,
        cast(units as bigint) as units,
        cast(net_sales_cny as decimal(18, 2)) as net_sales_cny,
        cast(refunds_cny as decimal(18, 2)) as refunds_cny,
        cast(net_sales_cny - refunds_cny as decimal(18, 2)) as net_spend_cny,
        has_unmapped_sku
    from sequenced
)

select * from final
