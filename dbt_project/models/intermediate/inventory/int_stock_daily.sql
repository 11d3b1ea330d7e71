{#- Closing stock per master SKU × warehouse × local date over the last `stock_history_days` days up to the latest
    WMS snapshot, valued at that day's moving-average unit cost. The WMS snapshot is used where one exists
    (`is_snapshot`); before the first snapshot the closing stock is rolled back from the latest snapshot through
    the stock movements: closing(d) = on hand at the latest snapshot − net movements after d. Every stocked
    master SKU has a row in every warehouse the WMS reports, every day (0 when it holds none).

    Incremental by SKU (macros/incremental_by_signature.sql): a SKU's rows depend on its snapshots, movements and
    moving-average cost ranges within the history's days, its product row, and every warehouse's latest snapshot
    date (which every SKU's signature carries: a new snapshot day rebuilds every SKU). Movements after the latest
    snapshot, what an hour of the day mostly brings, are in no day of the history: no SKU is rebuilt for them. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='sku',
    on_schema_change='sync_all_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        with snapshots as (
            select * from {{ ref('stg_wms__stock_snapshots') }}
        ),
        latest_snapshot as (
            select warehouse_id, max(snapshot_date) as anchor_date
            from snapshots
            group by warehouse_id
        ),
        history as (
            select
                min(anchor_date) - {{ var('stock_history_days') - 1 }} as first_day,
                max(anchor_date) as last_day,
                hash(string_agg(warehouse_id || '@' || anchor_date, ',' order by warehouse_id)) as anchors
            from latest_snapshot
        ),
        stock as (
            select sku, count(*) as rows, sum(hash(warehouse_id, snapshot_date, on_hand)) as hashes
            from snapshots
            where snapshot_date between (select first_day from history) and (select last_day from history)
            group by 1
        ),
        moves as (
            select sku, count(*) as rows, sum(hash(warehouse_id, moved_date, quantity)) as hashes
            from {{ ref('stg_wms__stock_movements') }}
            where moved_date between (select first_day from history) and (select last_day from history)
            group by 1
        ),
        costs as (
            select sku, count(*) as rows, sum(hash(valid_from, unit_cost)) as hashes
            from {{ ref('int_sku_unit_costs') }}
            where valid_from <= (select last_day from history)
            group by 1
        )
        select
            products.sku,
            hash(
                (select anchors from history), {{ var('stock_history_days') }},
                stock.rows, stock.hashes, moves.rows, moves.hashes, costs.rows, costs.hashes
            ) as signature
        from {{ ref('stg_product_master__products') }} as products
        left join stock on products.sku = stock.sku
        left join moves on products.sku = moves.sku
        left join costs on products.sku = costs.sku
        where not products.is_kit
    """,
    post_hook="{{ save_signatures('sku') }}",
) }}
with snapshots as (
    select * from {{ ref('stg_wms__stock_snapshots') }}
),

movements as (
    select * from {{ ref('stg_wms__stock_movements') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
    where not is_kit
        and {{ only_rebuilt('sku') }}
),

unit_costs as (
    select * from {{ ref('int_sku_unit_costs') }}
),

latest_snapshot as (
    select warehouse_id, max(snapshot_date) as anchor_date
    from snapshots
    group by warehouse_id
),

days as (
    select
        latest_snapshot.warehouse_id,
        latest_snapshot.anchor_date,
        {{ date_series(
            dbt.dateadd('day', -1 * (var('stock_history_days') - 1), 'latest_snapshot.anchor_date'),
            'latest_snapshot.anchor_date'
        ) }} as stock_date
    from latest_snapshot
),

grid as (
    select
        days.warehouse_id,
        days.anchor_date,
        days.stock_date,
        products.sku
    from days
    cross join products
),

anchors as (
    select
        snapshots.warehouse_id,
        snapshots.sku,
        snapshots.on_hand
    from snapshots
    inner join latest_snapshot
        on snapshots.warehouse_id = latest_snapshot.warehouse_id
        and snapshots.snapshot_date = latest_snapshot.anchor_date
    where {{ only_rebuilt('sku', 'snapshots.sku') }}
),

daily_moves as (
    select
        warehouse_id,
        sku,
        moved_date,
        sum(quantity) as net_quantity
    from movements
    where {{ only_rebuilt('sku') }}
    group by warehouse_id, sku, moved_date
),

rolled_back as (
    select
        grid.warehouse_id,
        grid.sku,
        grid.stock_date,
        coalesce(anchors.on_hand, 0)
            - coalesce(sum(coalesce(daily_moves.net_quantity, 0)) over (
                partition by grid.warehouse_id, grid.sku order by grid.stock_date desc
                rows between unbounded preceding and 1 preceding
            ), 0) as rolled_back_on_hand
    from grid
    left join anchors on grid.warehouse_id = anchors.warehouse_id and grid.sku = anchors.sku
    left join daily_moves
        on grid.warehouse_id = daily_moves.warehouse_id
        and grid.sku = daily_moves.sku
        and grid.stock_date = daily_moves.moved_date
),

with_snapshots as (
    select
        rolled_back.warehouse_id,
        rolled_back.sku,
        rolled_back.stock_date,
        snapshots.on_hand is not null as is_snapshot,
        -- movements missing from the WMS history could roll back below zero: stock never is
        greatest(coalesce(snapshots.on_hand, rolled_back.rolled_back_on_hand), 0) as closing_on_hand
    from rolled_back
    left join snapshots
        on rolled_back.warehouse_id = snapshots.warehouse_id
        and rolled_back.sku = snapshots.sku
        and rolled_back.stock_date = snapshots.snapshot_date
),

valued as (
    select
        with_snapshots.*,
        -- DuckDB 1.5.5's as-of join matches a row whose date is null too: no date, no cost
        case when with_snapshots.stock_date >= unit_costs.valid_from then unit_costs.unit_cost end as unit_cost
    from with_snapshots
    -- the cost range the day falls in (ranges are contiguous: the latest one starting on or before it)
    asof left join unit_costs
        on with_snapshots.sku = unit_costs.sku
        and with_snapshots.stock_date >= unit_costs.valid_from
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "warehouse_id", "'|'", "cast(stock_date as varchar)"]) }} as stock_day_id,
        sku,
        warehouse_id,
        stock_date,
        cast(closing_on_hand as integer) as closing_on_hand,
        is_snapshot,
        unit_cost,
        cast(closing_on_hand * unit_cost as decimal(18, 2)) as closing_stock_value
    from valued
)

select * from final
