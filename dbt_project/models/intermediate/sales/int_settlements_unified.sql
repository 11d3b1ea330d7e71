{#- Every marketplace's settlement bill lines in the canonical shape (signed amounts, shop currency). The
    platforms serve only months of bills online, so older ones come from the sellers' bill exports (账单);
    where both have a bill line (same shop and platform bill line id), the API's copy wins. A line the platform
    booked twice stays twice (its settlement_line_id carries a suffix): reconciliation flags it. -#}
with api as (
    {{ union_channels('settlements') }}
),

files as (
    {{ union_files('settlements') }}
),

api_lines as (
    select distinct shop_id, platform_bill_line_id from api
),

unified as (
    select * from api
    union all
    select files.* from files
    left join api_lines
        on files.shop_id = api_lines.shop_id
        and files.platform_bill_line_id = api_lines.platform_bill_line_id
    where api_lines.platform_bill_line_id is null
)

select * from unified
