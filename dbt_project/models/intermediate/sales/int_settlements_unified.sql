{#- Every marketplace's settlement bill lines in the canonical shape (signed amounts, shop currency). A line the
    platform sent twice stays twice (its settlement_line_id carries a suffix): reconciliation flags it. -#}
with unified as (
    {{ union_channels('settlements') }}
)

select * from unified
