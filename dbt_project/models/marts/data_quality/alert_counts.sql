{#- How many SKUs each stock alert flags today, with the thresholds (dbt vars) that decide it, so the data-status
    page can show both without knowing a rule: the rules stay in the marts that flag the SKUs. -#}
with health as (
    select * from {{ ref('inventory_health') }}
),

forecasts as (
    select * from {{ ref('demand_forecast_summary') }}
),

deliveries as (
    select * from {{ ref('supplier_deliveries') }}
),

counts as (
    select 'oversold' as alert, count(*) filter (where health_status = 'oversold') as skus,
        null::double as threshold, null::double as threshold_2
    from health
    union all
    select 'stockout', count(*) filter (where health_status = 'stockout'), null, null
    from health
    union all
    select 'at_risk', count(*) filter (where health_status = 'at_risk'), {{ var('review_period_days') }}, null
    from health
    union all
    select 'dead', count(*) filter (where health_status = 'dead'), {{ var('dead_stock_days') }}, null
    from health
    union all
    select 'overdue_po', count(*) filter (where overdue_quantity > 0), {{ var('po_overdue_grace_days') }}, null
    from health
    union all
    select
        'ghost_listing',
        count(*) filter (where ghost_listing),
        {{ var('ghost_listing_tolerance_units') }},
        {{ var('ghost_listing_tolerance_days') }}
    from health
    union all
    select 'unreliable_forecast', count(*) filter (where not is_reliable), {{ var('forecast_reliable_max_wape') }}, null
    from forecasts
    union all
    select 'late_supplier', count(distinct sku) filter (where delivery_status in ('late_open', 'overdue')), null, null
    from deliveries
),

final as (
    select
        cast(alert as varchar) as alert,
        cast(skus as integer) as skus,
        cast(threshold as double) as threshold,
        cast(threshold_2 as double) as threshold_2
    from counts
)

select * from final
