{#- What each order line cost in goods and returns, in master-SKU units (kits exploded, one row per component;
    an unmapped line is one row of its own, `unmapped:<code>`, with no known cost — cost_unknown):

        cogs        = (units shipped − units returned to stock) × unit cost on the local ship date
        return_cost = units whose goods came back × (return shipping + handling) of the category (seed)

    Unit cost: the moving average from receipts (int_sku_unit_costs) valid on the ship date. Units returned
    and restocked come from successful refunds; restocked units never exceed the units shipped. A paid order
    still waiting to ship (status paid) will ship its units not refunded yet: until it does, they are costed at
    the current unit cost and flagged cogs_estimated, so the newest days' margins are not inflated.

    Incremental by order (`incremental_by_order`), its parent the order lines: a change to the product master,
    the unit costs, the shops or the return costs rebuilds every order. -#}
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='sync_all_columns',
    pre_hook="{{ keep_current_orders('int_order_line_component_costs') }}",
) }}

with changed_orders as (
    {{ changed_orders('int_order_line_component_costs') }}
),

lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where {{ only_changed() }}
),

components as (
    select * from {{ ref('int_order_line_components') }}
    where {{ only_changed() }}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
    where {{ only_changed() }}
),

shops as (
    select * from {{ ref('stg_config__shops') }}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

unit_costs as (
    select * from {{ ref('int_sku_unit_costs') }}
),

return_costs as (
    select * from {{ ref('return_costs') }}
),

refunds as (
    select
        order_line_id,
        sum(case when goods_returned then quantity else 0 end) as returned_quantity,
        sum(case when is_restocked then quantity else 0 end) as restocked_quantity
    from {{ ref('int_refunds_unified') }}
    where refund_status = 'success' and order_line_id is not null and {{ only_changed() }}
    group by 1
),

parts as (
    -- mapped lines: one row per master SKU (a kit line: one per component)
    select
        components.order_line_component_id,
        components.order_line_id,
        components.sku,
        components.sku as report_sku,
        products.category,
        components.units,
        components.refunded_units,
        cast(components.units / lines.quantity as integer) as units_per_line_unit,
        components.list_amount_cny as value_weight
    from components
    inner join lines on components.order_line_id = lines.order_line_id
    inner join products on components.sku = products.sku
    union all
    -- unmapped lines: the line itself, at no known cost
    select
        {{ dbt.concat(["order_line_id", "'|unmapped'"]) }} as order_line_component_id,
        order_line_id,
        cast(null as varchar) as sku,
        report_sku,
        'unmapped' as category,
        quantity as units,
        refunded_quantity as refunded_units,
        1 as units_per_line_unit,
        list_amount_cny as value_weight
    from lines
    where not is_mapped
),

shipped as (
    select
        parts.*,
        lines.order_id,
        lines.order_version as line_version,
        {{ local_date('orders.shipped_at', 'shops.timezone') }} as shipped_date,
        case when orders.shipped_at is not null then parts.units else 0 end as units_shipped,
        case
            when orders.shipped_at is null and orders.order_status = 'paid'
                then greatest(parts.units - parts.refunded_units, 0)
            else 0
        end as units_to_ship,
        coalesce(refunds.returned_quantity, 0) * parts.units_per_line_unit as units_returned,
        coalesce(refunds.restocked_quantity, 0) * parts.units_per_line_unit as restocked_units
    from parts
    inner join lines on parts.order_line_id = lines.order_line_id
    inner join orders on lines.order_id = orders.order_id
    inner join shops on orders.shop_id = shops.shop_id
    left join refunds on parts.order_line_id = refunds.order_line_id
),

costed as (
    select
        shipped.*,
        least(shipped.restocked_units, shipped.units_shipped) as units_restocked,
        -- DuckDB 1.5.5's as-of join matches a row whose date is null too: no date, no cost
        case when shipped.shipped_date >= unit_costs.valid_from then unit_costs.unit_cost end as unit_cost,
        current_costs.unit_cost as current_unit_cost,
        coalesce(category_rate.return_shipping_cny + category_rate.handling_cny,
                 default_rate.return_shipping_cny + default_rate.handling_cny, 0) as return_cost_per_unit
    from shipped
    -- the cost range the day falls in (ranges are contiguous: the latest one starting on or before it)
    asof left join unit_costs
        on shipped.sku = unit_costs.sku
        and shipped.shipped_date >= unit_costs.valid_from
    left join unit_costs as current_costs
        on shipped.sku = current_costs.sku
        and current_costs.valid_to is null
    left join return_costs as category_rate on shipped.category = category_rate.category
    left join return_costs as default_rate on default_rate.category = '*'
),

final as (
    select
        order_line_component_id,
        order_line_id,
        order_id,
        sku,
        category,
        report_sku,
        sku is not null as is_mapped,
        value_weight,
        cast(units as integer) as units,
        cast(refunded_units as integer) as units_refunded,
        cast(units_shipped as integer) as units_shipped,
        cast(units_returned as integer) as units_returned,
        cast(units_restocked as integer) as units_restocked,
        cast(units_to_ship as integer) as units_to_ship,
        shipped_date,
        coalesce(unit_cost, case when units_to_ship > 0 then current_unit_cost end) as unit_cost,
        units_to_ship > 0 as cogs_estimated,
        units_shipped + units_to_ship > 0
            and coalesce(unit_cost, case when units_to_ship > 0 then current_unit_cost end) is null
            as cost_unknown,
        cast(
            coalesce((units_shipped - units_restocked) * unit_cost, 0)
            + coalesce(units_to_ship * current_unit_cost, 0)
            as decimal(18, 2)
        ) as cogs_cny,
        cast(units_returned * return_cost_per_unit as decimal(18, 2)) as return_cost_cny,
        {{ order_version('int_order_line_component_costs', 'line_version') }} as order_version
    from costed
)

select * from final
