{#- The managers' monthly targets per shop (经营目标), in the reporting currency, as entered on the SKU margin
    page's monthly P&L: net revenue and contribution margin after ads. One row per shop and month. -#}
with source as (
    select * from {{ raw_source('raw_ops', 'shop_targets') }}
),

final as (
    select
        shop_id,
        cast(date_trunc('month', month) as date) as month,
        cast(net_revenue_target as decimal(18, 2)) as net_revenue_target_cny,
        cast(contribution_target as decimal(18, 2)) as contribution_target_cny,
        set_by,
        set_at
    from source
)

select * from final
