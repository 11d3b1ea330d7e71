{#- settlement_reconciliation summed per shop × month (the order's month; an orphan bill's settlement month):
    orders per status and what is still owed.

        unsettled_amount   = Σ expected_settlement of pending and missing_settlement orders (not billed yet)
        overdue_amount     = Σ expected_settlement of missing_settlement orders
        discrepancy_amount = Σ (settled − expected) of amount_mismatch and duplicate_bill orders
        outstanding_amount = unsettled_amount − discrepancy_amount (what the platform still owes; < 0 = overpaid)
        orphan_amount      = Σ settled_amount of orphan_bill lines
    each in the shop's currency, and again in CNY (`*_cny`, from the orders' converted amounts) so that shops in
    different currencies add up.
-#}
with reconciliation as (
    select * from {{ ref('settlement_reconciliation') }}
),

monthly as (
    select
        shop_id,
        month,
        {%- for status in ['matched', 'amount_mismatch', 'missing_settlement', 'pending', 'orphan_bill',
                           'duplicate_bill'] %}
        cast(sum(case when status = '{{ status }}' then 1 else 0 end) as bigint) as {{ status }}_orders,
        {%- endfor %}
        {%- for c in ['', '_cny'] %}
        cast(sum(case when status != 'orphan_bill' then expected_settlement{{ c }} else 0 end) as decimal(18, 2))
            as expected_amount{{ c }},
        cast(sum(coalesce(settled_amount{{ c }}, 0)) as decimal(18, 2)) as settled_amount{{ c }},
        cast(sum(case when status in ('pending', 'missing_settlement') then expected_settlement{{ c }} else 0 end)
            as decimal(18, 2)) as unsettled_amount{{ c }},
        cast(sum(case when status = 'missing_settlement' then expected_settlement{{ c }} else 0 end)
            as decimal(18, 2)) as overdue_amount{{ c }},
        cast(sum(case when status in ('amount_mismatch', 'duplicate_bill') then difference{{ c }} else 0 end)
            as decimal(18, 2)) as discrepancy_amount{{ c }},
        cast(sum(case when status = 'orphan_bill' then settled_amount{{ c }} else 0 end) as decimal(18, 2))
            as orphan_amount{{ c }}{{ ',' if not loop.last }}
        {%- endfor %}
    from reconciliation
    group by 1, 2
),

final as (
    select
        shop_id,
        month,
        cast(matched_orders + amount_mismatch_orders + missing_settlement_orders + pending_orders
            + duplicate_bill_orders as bigint) as orders,
        matched_orders,
        amount_mismatch_orders,
        missing_settlement_orders,
        pending_orders,
        orphan_bill_orders,
        duplicate_bill_orders,
        expected_amount,
        settled_amount,
        unsettled_amount,
        overdue_amount,
        discrepancy_amount,
        cast(unsettled_amount - discrepancy_amount as decimal(18, 2)) as outstanding_amount,
        orphan_amount,
        expected_amount_cny,
        settled_amount_cny,
        unsettled_amount_cny,
        overdue_amount_cny,
        discrepancy_amount_cny,
        cast(unsettled_amount_cny - discrepancy_amount_cny as decimal(18, 2)) as outstanding_amount_cny,
        orphan_amount_cny,
        cast(
            matched_orders / nullif(
                matched_orders + amount_mismatch_orders + missing_settlement_orders + duplicate_bill_orders, 0
            ) as double
        ) as match_rate
    from monthly
)

select * from final
