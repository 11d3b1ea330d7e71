{#- What to buy today, per stocked master SKU (spec "Demand forecast and replenishment", with the review period
    in the protection interval — a deviation from the spec's letter, see below):
    lead_time      = the SKU's lead time, else its supplier's
    z              = standard-normal quantile of var service_level
    safety_stock   = z × sigma × sqrt(lead_time + review_period)
    reorder_point  = forecast over (lead_time + review_period) + safety_stock
    order_up_to    = forecast over (lead_time + review_period) + safety_stock
    position       = available + on_order
    suggested_qty  = if position ≤ reorder_point: max(order_up_to − position, MOQ) rounded up to the pack size,
                     else 0 — and 0 when nothing is forecast (order_up_to = 0): the letter of the spec would
                     order the MOQ of a SKU nobody buys
    Why lead_time + review_period (spec: safety stock over sqrt(lead_time), reorder point over the lead time):
    purchase runs happen every review_period days, so a SKU whose position is just above a lead-time reorder
    point today is next looked at review_period days later, and what is ordered then arrives lead_time after
    that — the stock on hand must cover lead_time + review_period days of demand and of forecast error, not
    lead_time (the periodic-review order-up-to policy). bench/replenishment_replay.py measures the difference.
    Units of the points are kept to 2 decimals (DECIMAL), so the quantity arithmetic is exact.
    decision       = why the quantity is what it is, one per SKU: order (suggested_qty > 0); no_forecast_demand
                     (nothing forecast: a stocked-out SKU nobody is expected to buy); covered_by_open_pos (the
                     stock alone is at or below the reorder point, open POs not overdue lift the position above
                     it); enough_stock (the stock alone is above it). An overdue PO line (more than var
                     po_overdue_grace_days past its expected date) is not in on_order: overdue_quantity shows it.
    stockout_date  = first forecast day on which the cumulative forecast exceeds available (null beyond the
                     horizon). Forecast days start at as_of_date (today counts). -#}
with forecasts as (
    select * from {{ ref('demand_forecasts') }}
),

summary as (
    select * from {{ ref('demand_forecast_summary') }}
),

positions as (
    select * from {{ ref('int_sku_stock_positions') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

purchase_orders as (
    select * from {{ ref('stg_wms__purchase_orders') }}
),

purchase_order_lines as (
    select * from {{ ref('stg_wms__purchase_order_lines') }}
),

parameters as (
    select
        cast({{ var('service_level') }} as double) as service_level,
        cast({{ normal_quantile(var('service_level')) }} as double) as z,
        cast({{ var('review_period_days') }} as integer) as review_period_days
),

sku_terms as (
    select
        products.sku,
        products.product_name,
        products.category,
        products.supplier_id,
        cast(coalesce(products.lead_time_days, suppliers.lead_time_days) as integer) as lead_time_days,
        cast(coalesce(products.moq, suppliers.moq, 0) as integer) as moq,
        cast(greatest(coalesce(products.pack_size, 1), 1) as integer) as pack_size,
        products.unit_cost
    from products
    left join suppliers on products.supplier_id = suppliers.supplier_id
    where not products.is_kit
),

-- the supplier's price: the unit cost on the SKU's most recent purchase order line
last_prices as (
    select
        purchase_order_lines.sku,
        purchase_order_lines.unit_cost
    from purchase_order_lines
    inner join purchase_orders on purchase_order_lines.po_number = purchase_orders.po_number
    where purchase_orders.ordered_date <= {{ as_of_date() }}
    qualify row_number() over (
        partition by purchase_order_lines.sku
        order by purchase_orders.ordered_at desc, purchase_orders.po_number desc
    ) = 1
),

cumulative as (
    select
        forecasts.sku,
        forecasts.forecast_date,
        forecasts.day_ahead,
        forecasts.forecast_units,
        sum(forecasts.forecast_units) over (
            partition by forecasts.sku order by forecasts.day_ahead rows between unbounded preceding and current row
        ) as cumulative_units
    from forecasts
),

horizon_sums as (
    select
        cumulative.sku,
        -- in day order, so the same last bits (and the same rounded-up quantities) in every build
        sum(cumulative.forecast_units order by cumulative.day_ahead) filter (
            where cumulative.day_ahead <= sku_terms.lead_time_days
        ) as forecast_lead_time_units,
        sum(cumulative.forecast_units order by cumulative.day_ahead) filter (
            where cumulative.day_ahead <= sku_terms.lead_time_days + parameters.review_period_days
        ) as forecast_cycle_units,
        min(cumulative.forecast_date) filter (where cumulative.cumulative_units > positions.available)
            as stockout_date
    from cumulative
    inner join sku_terms on cumulative.sku = sku_terms.sku
    inner join positions on cumulative.sku = positions.sku
    cross join parameters
    group by 1
),

formulas as (
    select
        sku_terms.*,
        parameters.service_level,
        parameters.z,
        parameters.review_period_days,
        summary.daily_demand,
        summary.sigma,
        summary.model_name,
        cast(coalesce(horizon_sums.forecast_lead_time_units, 0) as decimal(18, 2)) as forecast_lead_time_units,
        cast(coalesce(horizon_sums.forecast_cycle_units, 0) as decimal(18, 2)) as forecast_cycle_units,
        cast(
            parameters.z * coalesce(summary.sigma, 0) * sqrt(sku_terms.lead_time_days + parameters.review_period_days)
            as decimal(18, 2)
        ) as safety_stock,
        positions.on_hand,
        positions.reserved,
        positions.available,
        positions.on_order,
        positions.overdue_quantity,
        positions.overdue_po_lines,
        positions.oldest_overdue_expected_date,
        positions.available + positions.on_order as position,
        horizon_sums.stockout_date,
        coalesce(last_prices.unit_cost, sku_terms.unit_cost) as unit_price_cny,
        last_prices.unit_cost is not null as is_supplier_price
    from sku_terms
    cross join parameters
    inner join positions on sku_terms.sku = positions.sku
    left join summary on sku_terms.sku = summary.sku
    left join horizon_sums on sku_terms.sku = horizon_sums.sku
    left join last_prices on sku_terms.sku = last_prices.sku
),

points as (
    select
        *,
        forecast_cycle_units + safety_stock as reorder_point,
        forecast_cycle_units + safety_stock as order_up_to
    from formulas
),

quantities as (
    select
        *,
        position <= reorder_point and order_up_to > 0 as needs_order,
        case
            when position <= reorder_point and order_up_to > 0
                then cast(ceil(greatest(order_up_to - position, moq) / pack_size) * pack_size as integer)
            else 0
        end as suggested_qty,
        case
            when position <= reorder_point and order_up_to > 0 then 'order'
            when order_up_to = 0 then 'no_forecast_demand'
            when available <= reorder_point then 'covered_by_open_pos'
            else 'enough_stock'
        end as decision
    from points
),

final as (
    select
        sku,
        product_name,
        category,
        supplier_id,
        {{ as_of_date() }} as as_of_date,
        cast(lead_time_days as integer) as lead_time_days,
        cast(review_period_days as integer) as review_period_days,
        cast(service_level as double) as service_level,
        cast(z as double) as z,
        model_name,
        cast(daily_demand as double) as daily_demand,
        cast(sigma as double) as sigma,
        cast(forecast_lead_time_units as decimal(18, 2)) as forecast_lead_time_units,
        cast(forecast_cycle_units as decimal(18, 2)) as forecast_cycle_units,
        cast(safety_stock as decimal(18, 2)) as safety_stock,
        cast(reorder_point as decimal(18, 2)) as reorder_point,
        cast(order_up_to as decimal(18, 2)) as order_up_to,
        cast(on_hand as integer) as on_hand,
        cast(reserved as integer) as reserved,
        cast(available as integer) as available,
        cast(on_order as integer) as on_order,
        cast(position as integer) as position,
        cast(moq as integer) as moq,
        cast(pack_size as integer) as pack_size,
        needs_order,
        cast(suggested_qty as integer) as suggested_qty,
        cast(decision as varchar) as decision,
        cast(overdue_quantity as integer) as overdue_quantity,
        cast(overdue_po_lines as integer) as overdue_po_lines,
        cast(oldest_overdue_expected_date as date) as oldest_overdue_expected_date,
        cast(unit_price_cny as decimal(18, 2)) as unit_price_cny,
        is_supplier_price,
        cast(suggested_qty * unit_price_cny as decimal(18, 2)) as suggested_value_cny,
        cast(stockout_date as date) as stockout_date,
        cast(stockout_date - {{ as_of_date() }} as integer) as days_to_stockout
    from quantities
)

select * from final
