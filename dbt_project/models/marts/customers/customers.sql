{#- One row per buyer per platform (masked buyer id; the same person on two platforms is two customers):
    first and last order, orders, net spend, orders in the repurchase window, and RFM — recency, frequency and
    monetary scored 1–5 by quintile within the shop (equal values share a score: score = 1 + ⌊5 × percent
    rank⌋, capped at 5; recency scores the most recent highest), named by the first matching rule of
    seeds/rfm_segments.csv (by priority). -#}
with customer_orders as (
    select * from {{ ref('customer_orders') }}
),

segments as (
    select * from {{ ref('rfm_segments') }}
),

per_customer as (
    select
        customer_id,
        shop_id,
        channel,
        min(order_date) as first_order_date,
        max(order_date) as last_order_date,
        count(*) as orders,
        count(*) filter (
            where order_date > {{ as_of_date() }} - {{ var('repurchase_window_days') }}
        ) as orders_in_window,
        sum(units) as units,
        sum(net_sales_cny) as net_sales_cny,
        sum(refunds_cny) as refunds_cny,
        sum(net_spend_cny) as net_spend_cny
    from customer_orders
    where order_date <= {{ as_of_date() }}
    group by 1, 2, 3
),

measured as (
    select
        *,
        {{ as_of_date() }} - last_order_date as recency_days
    from per_customer
),

scored as (
    select
        *,
        cast(least(5, 1 + floor(5 * percent_rank() over (partition by shop_id order by recency_days desc))) as integer)
            as r_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (partition by shop_id order by orders))) as integer) as f_score,
        cast(least(5, 1 + floor(5 * percent_rank() over (partition by shop_id order by net_spend_cny))) as integer)
            as m_score
    from measured
),

named as (
    select
        scored.customer_id,
        min_by(segments.segment, segments.priority) as rfm_segment
    from scored
    left join segments
        on scored.r_score between segments.r_min and segments.r_max
        and scored.f_score between segments.f_min and segments.f_max
        and scored.m_score between segments.m_min and segments.m_max
    group by 1
),

final as (
    select
        scored.customer_id,
        scored.shop_id,
        scored.channel,
        scored.first_order_date,
        scored.last_order_date,
        cast({{ dbt.date_trunc('month', 'scored.first_order_date') }} as date) as cohort_month,
        cast(scored.orders as bigint) as orders,
        cast(scored.orders_in_window as bigint) as orders_in_window,
        scored.orders >= 2 as is_repeat_buyer,
        cast(scored.units as bigint) as units,
        cast(scored.net_sales_cny as decimal(18, 2)) as net_sales_cny,
        cast(scored.refunds_cny as decimal(18, 2)) as refunds_cny,
        cast(scored.net_spend_cny as decimal(18, 2)) as net_spend_cny,
        cast(scored.recency_days as integer) as recency_days,
        cast(scored.r_score as integer) as r_score,
        cast(scored.f_score as integer) as f_score,
        cast(scored.m_score as integer) as m_score,
        cast(scored.r_score as varchar) || cast(scored.f_score as varchar) || cast(scored.m_score as varchar)
            as rfm_score,
        coalesce(named.rfm_segment, 'other') as rfm_segment
    from scored
    left join named on named.customer_id = scored.customer_id
)

select * from final
