{#- Moving-average (perpetual weighted-average) unit cost per master SKU, all warehouses together, as validity
    ranges of local dates. Before the first receipt a SKU is costed at the product master's unit cost; each
    receipt then re-averages what was on hand just before it with what came in:

        new_cost = (on_hand_before × old_cost + received × receipt_cost) / (on_hand_before + received)

    on_hand_before is the running sum of every stock movement before the receipt (negative stock counts as 0).
    Shipments take units out at the current average, so they never change it. Several receipts on one day leave
    the day's last average. Kits have no stock and no receipts: cost them through their components.
    The ranges of a SKU are contiguous (valid_to is the next valid_from), so join as an as-of join:
    `asof left join c on c.sku = x.sku and x.some_date >= c.valid_from` — the range join
    `x.some_date >= c.valid_from and (c.valid_to is null or x.some_date < c.valid_to)` gives the same rows but
    compares every line with every range of its SKU (166 s of a 10M-line build in one model).
-#}
with products as (
    select * from {{ ref('stg_product_master__products') }}
    where not is_kit
),

receipts as (
    select * from {{ ref('stg_wms__receipts') }}
),

movements as (
    select * from {{ ref('stg_wms__stock_movements') }}
),

-- stock events in time order: every movement except receipts (which come from the receipts table itself)
stock_events as (
    select
        sku,
        moved_at as event_at,
        1 as event_order,
        movement_id as event_id,
        quantity,
        cast(null as varchar) as receipt_id
    from movements
    where movement_type != 'receipt'
    union all
    select
        sku,
        received_at as event_at,
        2 as event_order,
        receipt_id as event_id,
        quantity,
        receipt_id
    from receipts
),

running_stock as (
    select
        *,
        sum(quantity) over (
            partition by sku order by event_at, event_order, event_id
            rows between unbounded preceding and current row
        ) as on_hand_after
    from stock_events
),

receipts_in_order as (
    select
        receipts.sku,
        receipts.received_date,
        row_number() over (partition by receipts.sku order by receipts.received_at, receipts.receipt_id)
            as receipt_number,
        cast(greatest(running_stock.on_hand_after - receipts.quantity, 0) as double) as on_hand_before,
        cast(receipts.quantity as double) as received,
        cast(receipts.unit_cost as double) as receipt_cost
    from receipts
    inner join running_stock on receipts.receipt_id = running_stock.receipt_id
),

-- the average after each receipt, receipt by receipt, starting from the product master's cost
moving_average as (
    with recursive averaged as (
        select
            receipts_in_order.sku,
            receipts_in_order.received_date,
            receipts_in_order.receipt_number,
            case
                when receipts_in_order.on_hand_before + receipts_in_order.received = 0
                    then receipts_in_order.receipt_cost
                else (receipts_in_order.on_hand_before * cast(products.unit_cost as double)
                    + receipts_in_order.received * receipts_in_order.receipt_cost)
                    / (receipts_in_order.on_hand_before + receipts_in_order.received)
            end as average_cost
        from receipts_in_order
        inner join products on receipts_in_order.sku = products.sku
        where receipts_in_order.receipt_number = 1
        union all
        select
            receipts_in_order.sku,
            receipts_in_order.received_date,
            receipts_in_order.receipt_number,
            case
                when receipts_in_order.on_hand_before + receipts_in_order.received = 0
                    then receipts_in_order.receipt_cost
                else (receipts_in_order.on_hand_before * averaged.average_cost
                    + receipts_in_order.received * receipts_in_order.receipt_cost)
                    / (receipts_in_order.on_hand_before + receipts_in_order.received)
            end as average_cost
        from averaged
        inner join receipts_in_order
            on averaged.sku = receipts_in_order.sku
            and receipts_in_order.receipt_number = averaged.receipt_number + 1
    )

    select * from averaged
),

-- one cost per SKU and receipt day: the average after that day's last receipt
daily_cost as (
    select
        sku,
        received_date as valid_from,
        average_cost
    from moving_average
    qualify row_number() over (partition by sku, received_date order by receipt_number desc) = 1
),

-- the product master's cost from the beginning of time until the first receipt day
ranges as (
    select
        sku,
        cast('1900-01-01' as date) as valid_from,
        cast(unit_cost as double) as average_cost
    from products
    union all
    select sku, valid_from, average_cost
    from daily_cost
),

rounded as (
    select
        sku,
        valid_from,
        cast(round(average_cost, 4) as decimal(18, 4)) as unit_cost
    from ranges
),

-- a receipt that leaves the cost where it was starts no new range
changes as (
    select *
    from rounded
    qualify lag(unit_cost) over (partition by sku order by valid_from) is distinct from unit_cost
),

final as (
    select
        {{ dbt.concat(["sku", "'|'", "cast(valid_from as varchar)"]) }} as unit_cost_id,
        sku,
        valid_from,
        lead(valid_from) over (partition by sku order by valid_from) as valid_to,
        unit_cost
    from changes
)

select * from final
