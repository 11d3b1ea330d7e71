{#- Every channel's orders in the canonical shape, amounts in the shop's currency, before anything is set
    aside. Platforms keep only months of history online, so older orders come from back-office exports; where
    both have an order, the API wins. Incremental by order (`incremental_by_order`). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_orders_stacked') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_orders_stacked') }}
),

api as (
    select * from (
        {{ union_channels('orders') }}
    ) as api_orders
    where {{ only_changed() }}
),

files as (
    select * from (
        {{ union_files('orders') }}
    ) as file_orders
    where {{ only_changed() }}
),

stacked as (
    select * from api
    union all
    select * from files
    where order_id not in (select order_id from api)
),

final as (
    select
        stacked.*,
        {{ order_version('int_orders_stacked', 'order_versions.order_version') }} as order_version
    from stacked
    left join {{ ref('int_order_versions') }} as order_versions on stacked.order_id = order_versions.order_id
)

select * from final
