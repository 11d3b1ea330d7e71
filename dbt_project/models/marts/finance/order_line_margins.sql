{#- Contribution margin per order line of every paid order, in CNY (docs: _finance__models.yml):

        net_sales    = paid amount allocated to the line (no shipping charged to the buyer)
        net_revenue  = net_sales − refunds
        cogs         = (units shipped − units returned to stock) × unit cost on the ship date
        platform_fees = the order's commission + service + affiliate fees from its bill, or before a bill
                       exists paid amount × (commission_rate + service_fee_rate) (int_shop_terms_resolved), fees_estimated = true
        fulfilment_cost = the order's courier cost
        (a paid order still waiting to ship: COGS at the current unit cost and the courier's price for its
        parcel, costs_estimated = true; so is a line with no known unit cost — unmapped, or no cost in the
        product master — whose COGS counts as 0)
        return_cost  = returned units × (return shipping + handling) (seed)
        contribution_margin = net_revenue − cogs − platform_fees − fulfilment_cost − return_cost

    Order-level amounts (fees, courier) go to the lines in proportion to their paid amount. Incremental by order
    (macros/incremental_by_signature.sql): an order's signature is the versions of everything its lines are
    built from — its lines (the order chain's version: the order, its lines and refunds, products, rates), their
    component costs (unit costs, kits, return costs), its courier cost, its bill lines — and the shop terms; an
    hourly run rebuilds the orders whose signature changed (a new or corrected order, a bill that came or changed,
    a unit cost corrected in the product master, however old the order) and drops the orders no longer counted
    (an order the build now sets aside). -#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='append_new_columns',
    pre_hook="""
        create or replace temp table {{ this.identifier }}__signatures as
        with lines as (
            select order_id, min(order_version) as version
            from {{ ref('int_order_lines_enriched') }}
            where paid_at is not null
            group by 1
        ),

        component_costs as (
            select order_id, min(order_version) as version
            from {{ ref('int_order_line_component_costs') }}
            group by 1
        ),

        fulfilment as (
            select order_id, min(order_version) as version
            from {{ ref('int_order_fulfilment_costs') }}
            group by 1
        )

        select
            lines.order_id,
            hash(
                lines.version, component_costs.version, fulfilment.version, settlements.bill_lines,
                settlements.lines_signature, {{ table_hash(ref('int_shop_terms_resolved')) }}
            ) as signature
        from lines
        left join component_costs on lines.order_id = component_costs.order_id
        left join fulfilment on lines.order_id = fulfilment.order_id
        left join {{ ref('int_order_settlements') }} as settlements on lines.order_id = settlements.order_id
    """,
    post_hook="{{ save_signatures('order_id') }}",
) }}

{%- set changed_orders = changed_keys('order_id') %}
{#- in an incremental run, the other inputs are read for the rebuilt orders only -#}
{%- set rebuilt_filter = 'where order_id in (select order_id from lines)' if changed_orders else '' %}

with lines as (
    select * from {{ ref('int_order_lines_enriched') }}
    where paid_at is not null
    {% if changed_orders %}
        and order_id in ({{ changed_orders }})
    {% endif %}
),

orders as (
    select * from {{ ref('int_orders_unified') }}
    {{ rebuilt_filter }}
),

component_costs as (
    select * from {{ ref('int_order_line_component_costs') }}
    {{ rebuilt_filter }}
),

settlements as (
    select * from {{ ref('int_order_settlements') }}
    {{ rebuilt_filter }}
),

fulfilment as (
    select * from {{ ref('int_order_fulfilment_costs') }}
    {{ rebuilt_filter }}
),

shop_terms as (
    select * from {{ ref('int_shop_terms_resolved') }}
),

line_costs as (
    select
        order_line_id,
        sum(units) as units,
        sum(units_refunded) as units_refunded,
        sum(units_returned) as units_returned,
        sum(units_restocked) as units_restocked,
        sum(cogs_cny) as cogs_cny,
        sum(return_cost_cny) as return_cost_cny,
        bool_or(cost_unknown) as cost_unknown
    from component_costs
    group by 1
),

-- the order's fees, shop currency: billed when the bill is there, else estimated (a marketplace bills no fees
-- on an order fully refunded before completion; Shopify keeps its processing fee on refunds)
order_fees as (
    select
        orders.order_id,
        settlements.order_id is null as fees_estimated,
        case
            when settlements.order_id is not null then settlements.platform_fees
            when orders.order_status = 'refunded'
                and orders.channel in ('{{ api_channels("settlements") | join("', '") }}') then 0
            else round(orders.paid_amount * shop_terms.commission_rate, 2)
                + round(orders.paid_amount * shop_terms.service_fee_rate, 2)
        end as platform_fees
    from orders
    left join settlements on orders.order_id = settlements.order_id
    left join shop_terms on orders.shop_id = shop_terms.shop_id
),

-- allocation weight: the paid amount (the list value when the order was paid nothing, else the units)
weighted as (
    select
        lines.*,
        orders.shipped_at is not null as is_shipped,
        case
            when sum(lines.paid_amount) over (partition by lines.order_id) > 0 then lines.paid_amount
            when sum(lines.list_amount) over (partition by lines.order_id) > 0 then lines.list_amount
            else lines.quantity
        end as weight
    from lines
    inner join orders on lines.order_id = orders.order_id
),

shares as (
    select
        *,
        sum(weight) over (
            partition by order_id order by order_line_id rows between unbounded preceding and current row
        ) as cumulative_weight,
        sum(weight) over (partition by order_id) as total_weight
    from weighted
),

allocated as (
    select
        shares.*,
        coalesce(order_fees.fees_estimated, true) as fees_estimated,
        {{ allocate('coalesce(order_fees.platform_fees, 0)', 'shares.weight', 'shares.cumulative_weight',
                    'shares.total_weight') }} as platform_fees,
        {{ allocate('coalesce(fulfilment.fulfilment_cost_cny, 0)', 'shares.weight', 'shares.cumulative_weight',
                    'shares.total_weight') }} as fulfilment_cost_cny
    from shares
    left join order_fees on shares.order_id = order_fees.order_id
    left join fulfilment on shares.order_id = fulfilment.order_id
),

amounts as (
    select
        allocated.order_line_id,
        allocated.order_id,
        allocated.shop_id,
        allocated.channel,
        allocated.order_date,
        cast({{ dbt.date_trunc('month', 'allocated.order_date') }} as date) as order_month,
        allocated.order_status,
        allocated.is_shipped,
        allocated.sku,
        allocated.outer_id,
        allocated.is_mapped,
        allocated.product_name,
        allocated.category,
        cast(allocated.quantity as integer) as quantity,
        cast(coalesce(line_costs.units, allocated.quantity) as integer) as units,
        cast(coalesce(line_costs.units_refunded, 0) as integer) as units_refunded,
        cast(coalesce(line_costs.units_returned, 0) as integer) as units_returned,
        cast(coalesce(line_costs.units_restocked, 0) as integer) as units_restocked,
        allocated.currency,
        allocated.fx_rate,
        allocated.list_amount_cny,
        cast(allocated.merchant_discount * allocated.fx_rate as decimal(18, 2)) as merchant_discount_cny,
        allocated.paid_amount_cny as net_sales_cny,
        allocated.refund_amount_cny as refunds_cny,
        cast(coalesce(line_costs.cogs_cny, 0) as decimal(18, 2)) as cogs_cny,
        cast(allocated.platform_fees * allocated.fx_rate as decimal(18, 2)) as platform_fees_cny,
        allocated.fees_estimated,
        allocated.fulfilment_cost_cny,
        cast(coalesce(line_costs.return_cost_cny, 0) as decimal(18, 2)) as return_cost_cny,
        coalesce(not allocated.is_shipped and allocated.order_status = 'paid', false)
            or coalesce(line_costs.cost_unknown, false) as costs_estimated
    from allocated
    left join line_costs on allocated.order_line_id = line_costs.order_line_id
),

final as (
    select
        order_line_id,
        order_id,
        shop_id,
        channel,
        order_date,
        order_month,
        order_status,
        is_shipped,
        sku,
        outer_id,
        is_mapped,
        product_name,
        category,
        quantity,
        units,
        units_refunded,
        units_returned,
        units_restocked,
        currency,
        fx_rate,
        list_amount_cny,
        merchant_discount_cny,
        net_sales_cny,
        refunds_cny,
        cast(net_sales_cny - refunds_cny as decimal(18, 2)) as net_revenue_cny,
        cogs_cny,
        platform_fees_cny,
        fees_estimated,
        fulfilment_cost_cny,
        return_cost_cny,
        costs_estimated,
        cast(net_sales_cny - refunds_cny - cogs_cny - platform_fees_cny - fulfilment_cost_cny - return_cost_cny
            as decimal(18, 2)) as contribution_margin_cny,
        cast(
            (net_sales_cny - refunds_cny - cogs_cny - platform_fees_cny - fulfilment_cost_cny - return_cost_cny)
            / nullif(net_sales_cny - refunds_cny, 0) as double
        ) as margin_pct
    from amounts
)

select * from final
