{#- Every channel's refunds / after-sales cases in the canonical shape, with canonical reason codes; refunds
    from exports only where the API doesn't have them — before anything is set aside. -#}
with api as (
    {{ union_channels('refunds') }}
),

files as (
    {{ union_files('refunds') }}
),

unified as (
    select * from api
    union all
    select * from files
    where refund_id not in (select refund_id from api)
)

select * from unified
