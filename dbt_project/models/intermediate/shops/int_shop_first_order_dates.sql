{#- Each shop's first local order date among the orders the build counts: the promotion models' start of a
    shop's history (a shop that sold nothing before a day is no control market for it). Shops with no counted
    order have no row. -#}
with orders as (
    select * from {{ ref('int_orders_unified') }}
),

final as (
    select
        shop_id,
        min(order_date) as first_order_date
    from orders
    group by 1
)

select * from final
