{#- Every order the build counts: int_orders_stacked less what int_orders_set_aside sets aside (an order the
    build cannot count right is listed in marts.set_aside_rows instead of failing the build or turning into
    wrong numbers; its lines and refunds are left out with it). Incremental by order (`incremental_by_order`;
    a change to what is set aside rebuilds every order). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_orders_unified') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_orders_unified') }}
),

stacked as (
    select * from {{ ref('int_orders_stacked') }}
    where {{ only_changed() }}
),

set_aside as (
    select order_id from {{ ref('int_orders_set_aside') }}
),

final as (
    select
        stacked.* replace ({{ order_version('int_orders_unified', 'stacked.order_version') }} as order_version)
    from stacked
    where stacked.order_id not in (select order_id from set_aside)
)

select * from final
