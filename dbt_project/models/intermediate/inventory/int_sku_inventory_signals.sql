{#- Per stocked master SKU, the SKU-level inputs of inventory health that do not depend on the warehouse:
    daily demand, last sale, lead time, dead-stock test and ghost listings.

    daily_demand: the forecast per day over the SKU's lead time (marts/replenishment/demand_forecast_summary)
    where the SKU has one and var `inventory_uses_forecast` is on, else the fallback average of
    int_sku_demand_rates (demand_source says which).

    is_unsold: no sale for more than `dead_stock_days` days (or never) although the SKU has had stock for at least
    that long — a SKU stocked last week for a launch is not dead.

    contribution_margin_90d: the contribution margin (marts/finance/order_line_margins) of the lines ordered in
    the `turnover_days` days before as_of_date, in master-SKU units the way sku_margins splits it: a kit line's
    net revenue, fees and courier cost go to its components by list value, each keeping its own COGS and return
    cost (int_order_line_component_costs).

    Ghost listings: a current, on-sale listing shows more than the stock sync would allow, i.e. more than
    allowed = floor(max(sellable, 0) × stock_sync_share), by more than the tolerance
    greatest(var ghost_listing_tolerance_units, daily_demand × var ghost_listing_tolerance_days) — a listing a few
    units behind between two syncs is not an alert — or by any amount when allowed is 0 (showing stock while
    nothing is sellable is overselling). Sellable is the SKU's available units over all warehouses; a kit has no stock of its own, so each component checks the
    kit's listed quantity against floor(its allowance / units per kit) (the kit's availability is the minimum of
    that over its components), and a component limiting a listed kit has a ghost listing too. -#}
with positions as (
    select * from {{ ref('int_inventory_positions') }}
),

demand_rates as (
    select * from {{ ref('int_sku_demand_rates') }}
),

forecasts as (
    select * from {{ ref('demand_forecast_summary') }}
    {% if not var('inventory_uses_forecast') %}where false{% endif %}
),

products as (
    select * from {{ ref('stg_product_master__products') }}
),

suppliers as (
    select * from {{ ref('stg_product_master__suppliers') }}
),

kit_components as (
    select * from {{ ref('stg_product_master__kit_components') }}
),

listings as (
    select * from {{ ref('int_channel_listings') }}
    where is_current and is_on_sale and is_mapped
),

line_margins as (
    select * from {{ ref('order_line_margins') }}
    where order_date >= {{ dbt.dateadd('day', -1 * var('turnover_days'), as_of_date()) }}
        and order_date < {{ as_of_date() }}
),

component_costs as (
    select * from {{ ref('int_order_line_component_costs') }}
    where is_mapped
),

component_margins as (
    select
        component_costs.sku,
        -- a decimal per row (the share is a double), so the SKU's sum is exact in any order: summed as doubles,
        -- its last bits, and now and then its cent, differed between two builds of the same data
        cast(
            (line_margins.net_revenue_cny - line_margins.platform_fees_cny - line_margins.fulfilment_cost_cny)
                * case
                    when sum(component_costs.value_weight) over (partition by component_costs.order_line_id) > 0
                        then component_costs.value_weight
                            / sum(component_costs.value_weight) over (partition by component_costs.order_line_id)
                    else cast(component_costs.units as double)
                        / nullif(sum(component_costs.units) over (partition by component_costs.order_line_id), 0)
                end
                - component_costs.cogs_cny
                - component_costs.return_cost_cny
            as decimal(38, 10)
        ) as contribution_margin
    from component_costs
    inner join line_margins on component_costs.order_line_id = line_margins.order_line_id
),

margins_90d as (
    select
        sku,
        sum(contribution_margin) as contribution_margin_90d
    from component_margins
    group by sku
),

sku_demand as (
    select
        products.sku,
        cast(coalesce(forecasts.daily_demand, demand_rates.avg_daily_demand, 0) as double) as daily_demand
    from products
    left join forecasts on products.sku = forecasts.sku
    left join demand_rates on products.sku = demand_rates.sku
),

sku_available as (
    select
        positions.sku,
        sum(positions.available) as available,
        floor(greatest(sum(positions.available), 0) * {{ var('stock_sync_share') }}) as allowed_listing,
        greatest(
            {{ var('ghost_listing_tolerance_units') }},
            coalesce(max(sku_demand.daily_demand), 0) * {{ var('ghost_listing_tolerance_days') }}
        ) as tolerance
    from positions
    left join sku_demand on positions.sku = sku_demand.sku
    group by positions.sku
),

-- one row per (listing, stocked SKU it draws on): a kit listing draws on each of its components
listing_checks as (
    select
        listings.listing_id,
        listings.sku,
        listings.listed_quantity,
        sku_available.allowed_listing as allowed_quantity,
        sku_available.tolerance,
        true as is_direct
    from listings
    inner join sku_available on listings.sku = sku_available.sku
    where not listings.is_kit
    union all
    select
        listings.listing_id,
        kit_components.component_sku as sku,
        listings.listed_quantity,
        floor(sku_available.allowed_listing / kit_components.quantity) as allowed_quantity,
        sku_available.tolerance / kit_components.quantity as tolerance,
        false as is_direct
    from listings
    inner join kit_components on listings.sku = kit_components.kit_sku
    inner join sku_available on kit_components.component_sku = sku_available.sku
    where listings.is_kit
),

ghosts as (
    select
        sku,
        max(case when is_direct then listed_quantity end) as listed_quantity,
        count(distinct case
            when listed_quantity > allowed_quantity
                and (allowed_quantity <= 0 or listed_quantity - allowed_quantity > tolerance)
                then listing_id
        end) as ghost_listings
    from listing_checks
    group by sku
),

final as (
    select
        products.sku,
        products.product_name,
        products.category,
        products.supplier_id,
        cast(coalesce(products.lead_time_days, suppliers.lead_time_days) as integer) as lead_time_days,
        cast(coalesce(forecasts.daily_demand, demand_rates.avg_daily_demand, 0) as double) as daily_demand,
        case
            when forecasts.daily_demand is not null then 'forecast'
            else 'average'
        end as demand_source,
        demand_rates.last_sale_date,
        demand_rates.units_sold_30d,
        demand_rates.first_stocked_date,
        coalesce(
            (
                demand_rates.last_sale_date is null
                or demand_rates.last_sale_date
                    < {{ dbt.dateadd('day', -1 * var('dead_stock_days'), as_of_date()) }}
            )
            and demand_rates.first_stocked_date
                <= {{ dbt.dateadd('day', -1 * var('dead_stock_days'), as_of_date()) }},
            false
        ) as is_unsold,
        cast(ghosts.listed_quantity as integer) as listed_quantity,
        cast(coalesce(ghosts.ghost_listings, 0) as integer) as ghost_listings,
        coalesce(ghosts.ghost_listings, 0) > 0 as ghost_listing,
        cast(coalesce(margins_90d.contribution_margin_90d, 0) as decimal(18, 2)) as contribution_margin_90d
    from products
    left join suppliers on products.supplier_id = suppliers.supplier_id
    left join demand_rates on products.sku = demand_rates.sku
    left join forecasts on products.sku = forecasts.sku
    left join ghosts on products.sku = ghosts.sku
    left join margins_90d on products.sku = margins_90d.sku
    where not products.is_kit
)

select * from final
