{#- Every buyer is in exactly one cohort: per shop, the month-0 cohort sizes add up to the shop's customers. -#}
with cohorts as (
    select shop_id, sum(cohort_size) as cohort_buyers
    from {{ ref('customer_cohorts') }}
    where months_since_first = 0
    group by 1
),

customers as (
    select shop_id, count(*) as buyers
    from {{ ref('customers') }}
    group by 1
)

select *
from customers
full outer join cohorts using (shop_id)
where coalesce(cohorts.cohort_buyers, -1) <> coalesce(customers.buyers, -1)
