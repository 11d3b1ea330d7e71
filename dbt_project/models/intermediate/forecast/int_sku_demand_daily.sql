{#- Daily demand per master SKU (all channels, kits exploded into their components), zero-filled over the SKU's
    selling life up to the day before as_of_date, with the days the forecaster must not learn from:
    - stock-out days: nothing on hand in any warehouse at the day's close (the WMS snapshot where one exists;
      before the first snapshot, the closing stock rolled back from it through the stock movements), or at the
      previous day's close — sales were capped by stock, not by demand;
    - promotion days: a promotion in any shop covered the SKU (the forecast adds promotions back as a lift).
    units_demanded counts units on paid order lines (orders never paid are not demand), by local order date.

    Incremental by SKU (macros/incremental_by_signature.sql): a SKU's rows depend on its own paid lines before
    as_of_date (their chain versions), its snapshots before as_of_date, its movements up to its first snapshot,
    its product row and its promotions — and on the first day of the data and as_of_date, which every SKU's
    signature carries. An hour of new orders (as_of_date's own day, not yet demand) rebuilds only the SKUs whose
    older orders were refunded or corrected. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed_keys',
    unique_key='sku',
    on_schema_change='sync_all_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        with components as (
            select sku, order_date, hash(order_line_component_id, order_version) as row_hash
            from {{ ref('int_order_line_components') }}
            where paid_at is not null
                and order_date < {{ as_of_date() }}
        ),
        sales as (
            select sku, count(*) as rows, sum(row_hash) as hashes from components group by 1
        ),
        snapshots as (
            select sku, snapshot_date, on_hand
            from {{ ref('stg_wms__stock_snapshots') }}
            where snapshot_date < {{ as_of_date() }}
        ),
        stock as (
            select sku, min(snapshot_date) as first_snapshot, count(*) as rows, sum(hash(snapshot_date, on_hand)) as hashes
            from snapshots
            group by 1
        ),
        moves as (
            select movements.sku, count(*) as rows, sum(hash(movements.moved_date, movements.quantity)) as hashes
            from {{ ref('stg_wms__stock_movements') }} as movements
            inner join stock
                on movements.sku = stock.sku
                and movements.moved_date <= stock.first_snapshot
            group by 1
        ),
        promos as (
            select promotion_skus.sku, count(*) as rows, sum(hash(promotions.start_date, promotions.end_date)) as hashes
            from {{ ref('stg_product_master__promotions') }} as promotions
            inner join {{ ref('stg_product_master__promotion_skus') }} as promotion_skus
                on promotions.promo_id = promotion_skus.promo_id
            group by 1
        )
        select
            products.sku,
            hash(
                products.launched_on, (select min(order_date) from components), {{ as_of_date() }},
                sales.rows, sales.hashes, stock.rows, stock.hashes, moves.rows, moves.hashes, promos.rows, promos.hashes
            ) as signature
        from {{ ref('stg_product_master__products') }} as products
        left join sales on products.sku = sales.sku
        left join stock on products.sku = stock.sku
        left join moves on products.sku = moves.sku
        left join promos on products.sku = promos.sku
        where not products.is_kit
    """,
    post_hook="{{ save_signatures('sku') }}",
) }}

with components as (
    select * from {{ ref('int_order_line_components') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

snapshots as (
    select * from {{ ref('stg_wms__stock_snapshots') }}
),

movements as (
    select * from {{ ref('stg_wms__stock_movements') }}
),

promotions as (
    select * from {{ ref('stg_product_master__promotions') }}
),

promotion_skus as (
    select * from {{ ref('stg_product_master__promotion_skus') }}
),

sales as (
    select
        sku,
        order_date as demand_date,
        sum(units) as units_demanded,
        sum(refunded_units) as units_refunded,
        count(distinct order_id) as orders
    from components
    where paid_at is not null
        and order_date < {{ as_of_date() }}
        and {{ only_rebuilt('sku') }}
    group by 1, 2
),

-- of every SKU, also in a run that rebuilds a few
data_start as (
    select min(order_date) as first_day
    from components
    where paid_at is not null
        and order_date < {{ as_of_date() }}
),

selling_life as (
    select
        products.sku,
        greatest(
            least(products.launched_on, first_sales.first_sale),  -- least/greatest skip nulls
            data_start.first_day
        ) as first_day,
        {{ as_of_date() }} - 1 as last_day
    from products
    cross join data_start
    left join (select sku, min(demand_date) as first_sale from sales group by 1) as first_sales
        on products.sku = first_sales.sku
    where not products.is_kit
        and {{ only_rebuilt('sku', 'products.sku') }}
),

sku_days as (
    select
        sku,
        cast(unnest(generate_series(first_day, last_day, interval 1 day)) as date) as demand_date
    from selling_life
    where first_day <= last_day
),

-- closing stock per SKU and day, all warehouses together
snapshot_stock as (
    select
        sku,
        snapshot_date,
        sum(on_hand) as on_hand
    from snapshots
    where snapshot_date < {{ as_of_date() }}
        and {{ only_rebuilt('sku') }}
    group by 1, 2
),

first_snapshot as (
    select
        sku,
        min(snapshot_date) as snapshot_date
    from snapshot_stock
    group by 1
),

first_snapshot_stock as (
    select snapshot_stock.*
    from snapshot_stock
    inner join first_snapshot using (sku, snapshot_date)
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

-- before the first snapshot: closing(d) = first snapshot − Σ movements on days d+1 .. first snapshot day
moves_to_first_snapshot as (
    select
        sku_days.sku,
        sku_days.demand_date,
        first_snapshot_stock.snapshot_date as first_snapshot_date,
        first_snapshot_stock.on_hand as first_snapshot_on_hand,
        case
            when sku_days.demand_date <= first_snapshot_stock.snapshot_date then coalesce(daily_moves.quantity, 0)
            else 0
        end as quantity
    from sku_days
    inner join first_snapshot_stock on sku_days.sku = first_snapshot_stock.sku
    left join daily_moves
        on sku_days.sku = daily_moves.sku
        and sku_days.demand_date = daily_moves.moved_date
),

rolled_back as (
    select
        sku,
        demand_date,
        first_snapshot_on_hand - coalesce(sum(quantity) over (
            partition by sku order by demand_date rows between 1 following and unbounded following
        ), 0) as closing_on_hand
    from moves_to_first_snapshot
    qualify demand_date < first_snapshot_date
),

closing_stock as (
    select
        sku_days.sku,
        sku_days.demand_date,
        coalesce(snapshot_stock.on_hand, rolled_back.closing_on_hand) as closing_on_hand,
        case
            when snapshot_stock.on_hand is not null then 'snapshot'
            when rolled_back.closing_on_hand is not null then 'movements'
        end as stock_source
    from sku_days
    left join snapshot_stock
        on sku_days.sku = snapshot_stock.sku
        and sku_days.demand_date = snapshot_stock.snapshot_date
    left join rolled_back
        on sku_days.sku = rolled_back.sku
        and sku_days.demand_date = rolled_back.demand_date
),

promo_days as (
    select distinct
        promotion_skus.sku,
        cast(unnest(generate_series(promotions.start_date, promotions.end_date, interval 1 day)) as date)
            as demand_date
    from promotions
    inner join promotion_skus on promotions.promo_id = promotion_skus.promo_id
    where {{ only_rebuilt('sku', 'promotion_skus.sku') }}
),

final as (
    select
        {{ dbt.concat(["sku_days.sku", "'|'", "cast(sku_days.demand_date as varchar)"]) }} as sku_day_id,
        sku_days.sku,
        sku_days.demand_date,
        cast(coalesce(sales.units_demanded, 0) as integer) as units_demanded,
        cast(coalesce(sales.units_refunded, 0) as integer) as units_refunded,
        cast(coalesce(sales.units_demanded, 0) - coalesce(sales.units_refunded, 0) as integer) as net_units,
        cast(coalesce(sales.orders, 0) as integer) as orders,
        cast(closing_stock.closing_on_hand as integer) as closing_on_hand,
        closing_stock.stock_source,
        coalesce(
            closing_stock.closing_on_hand <= 0
            or lag(closing_stock.closing_on_hand) over (
                partition by sku_days.sku order by sku_days.demand_date
            ) <= 0,
            false
        ) as is_stockout_day,
        promo_days.sku is not null as is_promo_day
    from sku_days
    left join sales
        on sku_days.sku = sales.sku
        and sku_days.demand_date = sales.demand_date
    left join closing_stock
        on sku_days.sku = closing_stock.sku
        and sku_days.demand_date = closing_stock.demand_date
    left join promo_days
        on sku_days.sku = promo_days.sku
        and sku_days.demand_date = promo_days.demand_date
)

select * from final
