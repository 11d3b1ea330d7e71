{#- Closing on-hand stock per master SKU and local day, all warehouses together, rebuilt backwards from the
    latest WMS snapshot with the stock movements (snapshots are only kept for a few weeks; movements go back to
    the start). A stock-out day is a day that started or ended with nothing on hand: sales that day were capped
    by stock, not by demand, so demand baselines leave it out. Kits have no stock of their own (see
    int_promotion_item_days for kits: out when a component is out).

    Incremental by SKU (macros/incremental_by_signature.sql): a SKU's rows depend on its on-hand in the latest
    snapshot and its movements up to that snapshot's day, and on the history's first and last days, which every
    SKU's signature carries (a new snapshot day rebuilds every SKU). Movements after the latest snapshot, what
    an hour of the day mostly brings, are in no day of the history: no SKU is rebuilt for them. -#}
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
        latest as (
            select sku, sum(on_hand) as on_hand
            from snapshots
            where snapshot_date = (select max(snapshot_date) from snapshots)
            group by 1
        ),
        bounds as (
            select min(moved_date) as first_day, (select max(snapshot_date) from snapshots) as last_day
            from {{ ref('stg_wms__stock_movements') }}
        ),
        moves as (
            select sku, count(*) as rows, sum(hash(moved_date, quantity)) as hashes
            from {{ ref('stg_wms__stock_movements') }}
            where moved_date <= (select last_day from bounds)
            group by 1
        )
        select
            latest.sku,
            hash(bounds.first_day, bounds.last_day, latest.on_hand, moves.rows, moves.hashes) as signature
        from latest
        cross join bounds
        left join moves on latest.sku = moves.sku
    """,
    post_hook="{{ save_signatures('sku') }}",
) }}
with snapshots as (
    select * from {{ ref('stg_wms__stock_snapshots') }}
),

movements as (
    select * from {{ ref('stg_wms__stock_movements') }}
),

latest as (
    select
        sku,
        snapshot_date,
        sum(on_hand) as on_hand
    from snapshots
    where snapshot_date = (select max(snapshot_date) from snapshots)
        and {{ only_rebuilt('sku') }}
    group by 1, 2
),

bounds as (
    select
        min(moved_date) as first_day,
        (select max(snapshot_date) from snapshots) as last_day
    from movements
),

calendar as (
    select cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as stock_date
    from bounds
),

daily_moves as (
    select
        sku,
        moved_date,
        sum(quantity) as quantity
    from movements
    where {{ only_rebuilt('sku') }}
    group by 1, 2
),

sku_days as (
    select
        latest.sku,
        calendar.stock_date,
        latest.on_hand,
        coalesce(daily_moves.quantity, 0) as quantity
    from latest
    cross join calendar
    left join daily_moves
        on daily_moves.sku = latest.sku
        and daily_moves.moved_date = calendar.stock_date
),

-- closing(d) = snapshot − Σ movements after d (up to the snapshot day)
moved_after as (
    select
        sku,
        stock_date,
        on_hand,
        coalesce(sum(quantity) over (
            partition by sku order by stock_date rows between 1 following and unbounded following
        ), 0) as moved_after
    from sku_days
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "cast(stock_date as varchar)"]) }} as sku_stock_day_id,
        sku,
        stock_date,
        cast(on_hand - moved_after as integer) as closing_on_hand,
        (on_hand - moved_after) <= 0
            or coalesce(lag(on_hand - moved_after) over (partition by sku order by stock_date), 1) <= 0
            as is_stockout
    from moved_after
)

select * from final
