{#- Every channel's orders in the canonical shape, amounts in the shop's currency, before anything is set
    aside. Platforms keep only months of history online, so older orders come from back-office exports; where
    both have an order, the API wins. -#}
with api as (
    {{ union_channels('orders') }}
),

files as (
    {{ union_files('orders') }}
),

stacked as (
    select * from api
    union all
    select * from files
    where order_id not in (select order_id from api)
)

select * from stacked
