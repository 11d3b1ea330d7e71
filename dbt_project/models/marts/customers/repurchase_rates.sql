{#- Repurchase rate per shop: of the buyers with a paid order in the last `repurchase_window_days` days (up to
    as_of_date), the share with two or more orders in that window; and the same over the whole loaded history. -#}
with customers as (
    select * from {{ ref('customers') }}
),

final as (
    select
        shop_id,
        cast({{ as_of_date() }} - {{ var('repurchase_window_days') }} + 1 as date) as window_start,
        cast({{ as_of_date() }} as date) as window_end,
        cast(count(*) filter (where orders_in_window >= 1) as bigint) as buyers_in_window,
        cast(count(*) filter (where orders_in_window >= 2) as bigint) as repeat_buyers_in_window,
        cast(
            count(*) filter (where orders_in_window >= 2) / nullif(count(*) filter (where orders_in_window >= 1), 0)
            as double
        ) as repurchase_rate,
        cast(count(*) as bigint) as buyers_all_time,
        cast(count(*) filter (where is_repeat_buyer) as bigint) as repeat_buyers_all_time,
        cast(count(*) filter (where is_repeat_buyer) / count(*) as double) as repurchase_rate_all_time
    from customers
    group by 1
)

select * from final
