{#- Monthly cohorts per shop: buyers grouped by the month of their first order (in the loaded history), and for
    each month since, how many of them ordered again (retention), their orders and net spend. Month 0 is the
    cohort's own month (retention 1 by definition). Months after as_of_date are not shown. -#}
with customers as (
    select * from {{ ref('customers') }}
),

customer_orders as (
    select * from {{ ref('customer_orders') }}
    where order_date <= {{ as_of_date() }}
),

cohort_sizes as (
    select
        shop_id,
        cohort_month,
        count(*) as cohort_size
    from customers
    group by 1, 2
),

activity as (
    select
        customers.shop_id,
        customers.cohort_month,
        cast({{ dbt.date_trunc('month', 'customer_orders.order_date') }} as date) as activity_month,
        count(distinct customer_orders.customer_id) as active_buyers,
        count(*) as orders,
        sum(customer_orders.net_spend_cny) as net_spend_cny
    from customer_orders
    inner join customers on customers.customer_id = customer_orders.customer_id
    group by 1, 2, 3
),

months as (
    select
        cohort_sizes.shop_id,
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        cast(month as date) as activity_month
    from cohort_sizes
    cross join unnest(generate_series(
        cohort_sizes.cohort_month,
        cast({{ dbt.date_trunc('month', as_of_date()) }} as date),
        interval 1 month
    )) as m (month)
),

final as (
    select
        {{ dbt.concat(["months.shop_id", "'|'", "cast(months.cohort_month as varchar)", "'|'", "cast(months.activity_month as varchar)"]) }}
            as customer_cohort_id,
        months.shop_id,
        months.cohort_month,
        months.activity_month,
        cast(datediff('month', months.cohort_month, months.activity_month) as integer) as months_since_first,
        cast(months.cohort_size as bigint) as cohort_size,
        cast(coalesce(activity.active_buyers, 0) as bigint) as active_buyers,
        cast(coalesce(activity.active_buyers, 0) / months.cohort_size as double) as retention_rate,
        cast(coalesce(activity.orders, 0) as bigint) as orders,
        cast(coalesce(activity.net_spend_cny, 0) as decimal(18, 2)) as net_spend_cny
    from months
    left join activity
        on activity.shop_id = months.shop_id
        and activity.cohort_month = months.cohort_month
        and activity.activity_month = months.activity_month
)

select * from final
