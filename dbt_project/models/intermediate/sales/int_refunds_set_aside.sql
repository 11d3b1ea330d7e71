{#- Refunds the build sets aside: the refund names an order the warehouse does not count — never imported
    (older than the API's window and not in an export yet) or itself set aside (int_orders_set_aside). -#}
with refunds as (
    select * from {{ ref('int_refunds_stacked') }}
),

orders as (
    select order_id from {{ ref('int_orders_unified') }}
),

set_aside_orders as (
    select order_id from {{ ref('int_orders_set_aside') }}
),

final as (
    select
        refunds.refund_id,
        split_part(refunds.refund_id, ':', 1) as shop_id,
        refunds.order_id,
        case
            when refunds.order_id in (select order_id from set_aside_orders)
                then 'its order ' || refunds.order_id || ' is set aside (see that order''s reason)'
            else 'its order ' || refunds.order_id || ' was not imported: drop the order export that holds it in '
                || 'the exports folder, or start the shop''s API history earlier (start_date / history_days)'
        end as reason
    from refunds
    where refunds.order_id is null or refunds.order_id not in (select order_id from orders)
)

select * from final
