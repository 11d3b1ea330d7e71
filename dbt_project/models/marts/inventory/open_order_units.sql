{#- Units per master SKU in orders that hold no stock in a warehouse yet (kits exploded into components): placed
    but not paid. Paid, unshipped units are the inventory marts' `reserved`. Stock-sync rules may subtract them
    (quantity `unpaid_orders`). -#}
with components as (
    select * from {{ ref('int_order_line_components') }}
),

final as (
    select
        sku,
        cast(sum(units) as integer) as unpaid_units,
        count(distinct order_id) as unpaid_orders
    from components
    where order_status = 'pending_payment' and sku is not null
    group by sku
)

select * from final
