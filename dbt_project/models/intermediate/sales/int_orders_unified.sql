{#- Every order the build counts: int_orders_stacked less what int_orders_set_aside sets aside (an order the
    build cannot count right is listed in marts.set_aside_rows instead of failing the build or turning into
    wrong numbers; its lines and refunds are left out with it). -#}
with stacked as (
    select * from {{ ref('int_orders_stacked') }}
),

set_aside as (
    select order_id from {{ ref('int_orders_set_aside') }}
)

select * from stacked
where order_id not in (select order_id from set_aside)
