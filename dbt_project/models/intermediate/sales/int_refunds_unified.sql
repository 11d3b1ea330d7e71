{#- Every refund the build counts: int_refunds_stacked less the refunds whose order the warehouse does not count
    (int_refunds_set_aside, listed in marts.set_aside_rows). -#}
with stacked as (
    select * from {{ ref('int_refunds_stacked') }}
),

set_aside as (
    select refund_id from {{ ref('int_refunds_set_aside') }}
)

select * from stacked
where refund_id not in (select refund_id from set_aside)
